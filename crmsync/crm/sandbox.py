"""The sandbox's in-process mode: :class:`~crmsync.crm.ports.CrmPort` straight over a sandbox org, no HTTP.

For the engine/cycle benchmarks at 1,000,000 leads and for the demo. Same semantics as the HTTP adapters,
because it goes through the same pieces: records are rendered as the vendor's JSON and mapped by
:mod:`crmsync.crm.mapping`; actions become the same :mod:`crmsync.crm.writes` payloads, checked and applied by
the sandbox's own write rules (Salesforce: :class:`~crmsync.sandbox.sf_write.SalesforceWriter` with
``Sforce-Auto-Assign: FALSE``; HubSpot: its property conversion); activity creates are idempotent through the
same ledger-or-find-by-key rule. Pages have the HTTP adapters' sizes (2,000 / 200) and the same keyset
watermarks ``(modified, id)``; a change log fed by the org's listeners keeps an incremental pull proportional
to the changes, not to the org.

It counts calls as the HTTP adapter would make them (``budget().calls_by_endpoint``) but has no quota.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from crmsync.clock import Clock
from crmsync.crm.ledger import ActivityLedger, InMemoryLedger
from crmsync.crm.mapping import (
    FieldMap,
    hs_contact,
    hs_engagement,
    hs_owner,
    sf_activity,
    sf_lead,
    sf_queue,
    sf_user,
)
from crmsync.crm.ports import Budget, Outcome, OutcomeStatus, Page, Skip, Watermark
from crmsync.crm.translate import hs_error_outcome, sf_outcome
from crmsync.crm.writes import HsWrite, SfWrite, hs_write, sf_write
from crmsync.domain import Action, Activity, Lead, Owner, Vendor
from crmsync.sandbox.org import Org
from crmsync.sandbox.schema import HS_ASSOCIATION_TYPES, hs_wire, sf_wire

SF_PAGE, HS_PAGE = 2000, 200
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ChangeLog:
    """(stamp, id) of every change to one object type, kept sorted lazily, fed by the org's listeners."""

    def __init__(self, org: Org, obj: str, stamp_fields: Sequence[str]) -> None:
        self._org, self._obj, self._fields = org, obj, tuple(stamp_fields)
        self._entries: list[tuple[float, str]] = []
        self._sorted = True
        with org.lock:
            for rid in org.ids(obj, include_deleted=True):
                self._entries.append((self._stamp_of(rid), rid))
            org.listeners.append(self._on_change)
        self._entries.sort()

    def _stamp_of(self, rid: str) -> float:
        for name in self._fields:
            value = self._org.tables[self._obj].value(rid, name)
            if isinstance(value, datetime):
                return value.timestamp()
        return 0.0

    def _on_change(self, obj: str, rid: str, rec: Mapping[str, Any]) -> None:
        if obj != self._obj:
            return
        entry = (self._stamp_of(rid), rid)
        if self._entries and entry < self._entries[-1]:
            self._sorted = False
        self._entries.append(entry)

    def _compact(self) -> None:
        """Drop superseded entries (a record changed many times keeps only its latest), so memory stays flat."""
        self._entries = sorted((self._stamp_of(rid), rid) for rid in self._org.ids(self._obj, include_deleted=True))
        self._sorted = True

    def window(self, since: Watermark | None, until: datetime) -> list[tuple[float, str]]:
        """Current (stamp, id) of the records changed after ``since`` up to ``until``, in keyset order."""
        with self._org.lock:
            if len(self._entries) > 2 * self._org.count(self._obj, include_deleted=True) + 10_000:
                self._compact()
            if not self._sorted:
                self._entries.sort()
                self._sorted = True
            low = (since.instant.timestamp(), since.last_id) if since else (float("-inf"), "")
            start = bisect.bisect_right(self._entries, low) if since and since.last_id else 0
            if since and not since.last_id:
                start = bisect.bisect_left(self._entries, (low[0], ""))
            end = bisect.bisect_right(self._entries, (until.timestamp(), "\uffff"))
            hits = {rid: stamp for stamp, rid in self._entries[start:end] if self._stamp_of(rid) == stamp}
        return sorted((stamp, rid) for rid, stamp in hits.items())


class InProcessCrm:
    """A sandbox org (either vendor) behind the CRM port, without HTTP."""

    def __init__(
        self,
        connection: str,
        org: Org,
        *,
        clock: Clock,
        ledger: ActivityLedger | None = None,
        fields: dict[str, str] | None = None,
    ) -> None:
        from crmsync.sandbox.sf_write import AssignmentRule, SalesforceWriter

        self.connection = connection
        self.org = org
        self.vendor: Vendor = org.vendor
        self._clock = clock
        self._ledger = ledger or InMemoryLedger()
        self._fields = FieldMap.for_vendor(self.vendor, fields)
        self._calls: dict[str, int] = {}
        self._logs: dict[str, ChangeLog] = {}
        self._sf_writer = SalesforceWriter(org, AssignmentRule(), "") if self.vendor is Vendor.SALESFORCE else None

    # -- plumbing -----------------------------------------------------------------------------------------
    def _count(self, endpoint: str) -> None:
        self._calls[endpoint] = self._calls.get(endpoint, 0) + 1

    def _log(self, obj: str) -> ChangeLog:
        if obj not in self._logs:
            fields = ("SystemModstamp",) if self.vendor is Vendor.SALESFORCE else ("archivedAt", _hs_stamp(obj))
            self._logs[obj] = ChangeLog(self.org, obj, fields)
        return self._logs[obj]

    def _wire(self, obj: str, rid: str) -> dict[str, Any] | None:
        rec = self.org.get(obj, rid, include_deleted=True)
        if rec is None:
            return None
        if self.vendor is Vendor.SALESFORCE:
            return {k: sf_wire(v) for k, v in rec.items()}
        archived = rec.get("archivedAt")
        return {"id": rid, "properties": {k: hs_wire(v) for k, v in rec.items() if k != "archivedAt"},
                "archived": archived is not None, "archived_at": archived}  # fmt: skip

    # -- reads --------------------------------------------------------------------------------------------
    def pull_leads(self, since: Watermark | None, until: datetime) -> Iterator[Page[Lead]]:
        """Leads changed after ``since`` up to ``until``, deletions included, in keyset pages."""
        obj = "Lead" if self.vendor is Vendor.SALESFORCE else "contacts"
        size = SF_PAGE if self.vendor is Vendor.SALESFORCE else HS_PAGE
        keys = self._log(obj).window(since, until)
        for start in range(0, len(keys), size):
            chunk = keys[start : start + size]
            self._count(f"query:{obj}")
            mapped = [self._map_lead(self._wire(obj, rid) or {"Id": rid, "id": rid}) for _, rid in chunk]
            stamp, last = chunk[-1]
            yield Page(
                [m for m in mapped if isinstance(m, Lead)],
                [m for m in mapped if isinstance(m, Skip)],
                Watermark(datetime.fromtimestamp(stamp, tz=UTC), last),
            )

    def _map_lead(self, payload: dict[str, Any]) -> Lead | Skip:
        if self.vendor is Vendor.SALESFORCE:
            return sf_lead(self.connection, payload, self._fields)
        return hs_contact(self.connection, payload, self._fields)

    def pull_owners(self) -> Iterator[Page[Owner]]:
        """Users and queues (Salesforce) or owners (HubSpot), inactive ones included."""
        self._count("owners")
        mapped: list[Owner | Skip]
        if self.vendor is Vendor.SALESFORCE:
            mapped = [sf_user(self.connection, {k: sf_wire(v) for k, v in r.items()}) for r in self.org.rows("User")]
            queues = [r for r in self.org.rows("Group") if r.get("Type") == "Queue"]
            mapped += [sf_queue(self.connection, r) for r in queues]
        else:
            mapped = [
                hs_owner(self.connection, {**r, "id": r["hs_object_id"], "archived": r.get("archivedAt") is not None})
                for r in self.org.rows("owners", include_deleted=True)
            ]
        yield Page([m for m in mapped if isinstance(m, Owner)], [m for m in mapped if isinstance(m, Skip)])

    def pull_activities(self, since: Watermark | None, until: datetime) -> Iterator[Page[Activity]]:
        """Activities on leads changed in the window; the final empty page carries the watermark ``until``."""
        window = Watermark(since.instant) if since else None
        objs = ("Task", "Event") if self.vendor is Vendor.SALESFORCE else ("emails", "calls", "meetings")
        for obj in objs:
            keys = self._log(obj).window(window, until)
            for start in range(0, len(keys), SF_PAGE if self.vendor is Vendor.SALESFORCE else HS_PAGE):
                self._count(f"query:{obj}")
                mapped = [self._map_activity(obj, rid) for _, rid in keys[start : start + SF_PAGE]]
                kept = [m for m in mapped if m is not None]
                yield Page([m for m in kept if isinstance(m, Activity)], [m for m in kept if isinstance(m, Skip)])
        yield Page([], [], Watermark(until, ""))

    def _map_activity(self, obj: str, rid: str) -> Activity | Skip | None:
        payload = self._wire(obj, rid)
        if payload is None:
            return None
        if self.vendor is Vendor.SALESFORCE:
            who = payload.get("WhoId")
            if not isinstance(who, str) or not who.startswith("00Q"):
                return None
            return sf_activity(self.connection, obj, payload, self._fields)
        contacts = [to_id for to_id, _ in self.org.associations(obj, rid, "contacts")]
        return hs_engagement(self.connection, obj, payload, contacts, self._fields)

    def current_owners(self, lead_ids: Sequence[str]) -> dict[str, str | None]:
        """The owner of each live lead."""
        self._count("current_owners")
        obj = "Lead" if self.vendor is Vendor.SALESFORCE else "contacts"
        owner = self._fields.crm("owner")
        out: dict[str, str | None] = {}
        for rid in lead_ids:
            if self.org.get(obj, rid) is not None:
                value = self.org.value(obj, rid, owner)
                out[rid] = None if value is None else str(value)
        return out

    # -- writes -------------------------------------------------------------------------------------------
    def batch_size(self, action: Action) -> int:
        """As the vendor's API: 200 (Salesforce) or 100 (HubSpot)."""
        return 200 if self.vendor is Vendor.SALESFORCE else 100

    def apply(self, actions: Sequence[Action]) -> list[Outcome]:
        """Apply each action through the sandbox's write rules; one outcome per action."""
        now = self._clock.now()
        self._count("apply")
        if self.vendor is Vendor.SALESFORCE:
            return [self._sf_apply(sf_write(a, self._fields, now), now) for a in actions]
        return [self._hs_apply(hs_write(a, self._fields, now), now) for a in actions]

    def _sf_apply(self, write: SfWrite, now: datetime) -> Outcome:
        from crmsync.sandbox.sf_write import RecordError, WriteOptions

        assert self._sf_writer is not None
        opts = WriteOptions(auto_assign=False)
        payload = {k: v for k, v in write.record.items() if k != "attributes"}
        try:
            with self.org.lock:
                if write.op == "update":
                    prepared = self._sf_writer.prepare_update(write.sobject, str(payload["Id"]), payload, opts)
                else:
                    assert write.external_id_field is not None
                    key = str(payload[write.external_id_field])
                    prepared = self._sf_writer.prepare_upsert(
                        write.sobject, write.external_id_field, key, payload, opts
                    )
                rid = self._sf_writer.apply(prepared, now)
        except RecordError as err:
            return sf_outcome({"success": False, "errors": [err.as_item(key="statusCode")]})
        return Outcome(OutcomeStatus.DONE, crm_id=rid)

    def _hs_apply(self, write: HsWrite, now: datetime) -> Outcome:
        from crmsync.sandbox.hubspot_props import convert_properties
        from crmsync.sandbox.server import HttpError

        try:
            with self.org.lock:
                if write.op == "update":
                    rid = str(write.record_id)
                    if self.org.get("contacts", rid) is None:
                        return hs_error_outcome({"category": "OBJECT_NOT_FOUND", "message": f"contact {rid} not found"})
                    self.org.update("contacts", rid, convert_properties(self.org, "contacts", write.properties,
                                                                        creating=False), now=now)  # fmt: skip
                    return Outcome(OutcomeStatus.DONE, crm_id=rid)
                return self._hs_create(write, now, convert_properties(self.org, write.object_type, write.properties,
                                                                      creating=True))  # fmt: skip
        except HttpError as refused:
            import json

            body = json.loads(refused.response.body or b"{}")
            return hs_error_outcome({"category": body.get("category"), "message": body.get("message")})

    def _hs_create(self, write: HsWrite, now: datetime, values: dict[str, Any]) -> Outcome:
        key = str(write.key)
        entry = self._ledger.lookup(self.connection, [key]).get(key)
        if entry is not None and entry.crm_id is not None:
            return Outcome(OutcomeStatus.DONE, crm_id=entry.crm_id)
        prop = self._fields.crm("activity_key")
        found = [r for r in self.org.rows(write.object_type) if r.get(prop) == key] if entry is not None else []
        if found:
            rid = str(found[0]["hs_object_id"])
        else:
            self._ledger.begin(self.connection, [key])
            rid = str(self.org.create(write.object_type, values, now=now)["hs_object_id"])
            pair = (write.object_type, "contacts")
            self.org.associate(write.object_type, rid, "contacts", str(write.contact_id), HS_ASSOCIATION_TYPES[pair],
                               HS_ASSOCIATION_TYPES[("contacts", write.object_type)])  # fmt: skip
        self._ledger.complete(self.connection, key, rid)
        return Outcome(OutcomeStatus.DONE, crm_id=rid)

    # -- budget -------------------------------------------------------------------------------------------
    def allow(self, priority: int) -> bool:
        """The in-process org has no quota."""
        return True

    def budget(self) -> Budget:
        """Calls counted as the HTTP adapter would make them; no quota."""
        return Budget(calls_made=sum(self._calls.values()), calls_by_endpoint=dict(self._calls))


def _hs_stamp(obj: str) -> str:
    return "lastmodifieddate" if obj == "contacts" else "hs_lastmodifieddate"
