"""The HubSpot adapter: :class:`~crmsync.crm.ports.CrmPort` over hubspot-api-client (CRM v3, associations v4).

**Incremental contacts: a fixed window, keyset on ``hs_object_id``.** Search stops at 10,000 results per query
and thousands of contacts can share one ``lastmodifieddate``, so a window ``[t0, u]`` (``u`` = the caller's
``until``) is read with filter ``lastmodifieddate >= t0 AND lastmodifieddate <= u AND hs_object_id > last``,
sorted by ``hs_object_id`` ascending, 200 a page, every page a fresh query (``after`` is never used, so the
10,000 cap never applies). A contact modified while the window is read gets a timestamp past ``u`` and leaves
the window without shifting anything (keyset, not offset), and the next window ``[u, ...]`` reads it. Ties on a
timestamp cannot loop: ids only grow. A page's watermark is ``(t0, "<u as epoch ms>:<last id>")``: resuming
after a crash finishes *that* window (same ``u``) before starting the next one, so nothing modified meanwhile
is skipped; the window's last page carries ``(u, "")``. The window ends when a page returns all of the query's
``total``. With no watermark, the first pull walks the list endpoint instead (100 a page, no search rate limit)
and ends at ``(until, "")``.

**Deletions**: archived contacts from the list endpoint (``archived=true``), filtered to those archived since
the last scan, at most every ``archived_every_s``. **Owners**: PERSON and QUEUE owners, archived ones inactive.
**Engagements**: emails, calls and meetings searched on ``hs_lastmodifieddate`` by the same keyset, with their
contacts from associations v4 batch reads.

**Writes**: contact changes by batch update (≤ 100, unique ids per batch); a 207 names the failed inputs; a
whole-batch 400 is bisected to find the bad input. Tasks and logged emails/meetings/calls are created
idempotently through the :class:`~crmsync.crm.ledger.ActivityLedger` (see there), each input carrying its key
as ``objectWriteTraceId`` so a 207 maps errors back to actions, and associated to the contact at create.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import structlog
from hubspot.crm.associations.v4 import BatchInputPublicFetchAssociationsBatchRequest
from hubspot.crm.contacts import BatchReadInputSimplePublicObjectId, PublicObjectSearchRequest

from crmsync.clock import Clock
from crmsync.crm.budget import ApiBudget
from crmsync.crm.config import ConnectionSettings
from crmsync.crm.hs_client import HubSpotApi
from crmsync.crm.hs_writes import HubSpotWriter
from crmsync.crm.ledger import ActivityLedger
from crmsync.crm.mapping import FieldMap, hs_contact, hs_engagement, hs_millis, hs_owner, parse_instant
from crmsync.crm.ports import Budget, Outcome, Page, Skip, Watermark
from crmsync.domain import Action, Activity, Lead, Owner, Vendor
from crmsync.errors import PermanentRecordError

log = structlog.get_logger(__name__)
HS_BATCH = 100
HS_SEARCH_PAGE = 200
HS_LIST_PAGE = 100
CONTACT_PROPERTIES = ("email", "firstname", "lastname", "company", "jobtitle", "numemployees", "hs_lead_status",
                      "lifecyclestage", "hubspot_owner_id", "createdate", "lastmodifieddate", "hs_analytics_source",
                      "hs_object_id")  # fmt: skip
MAPPED = ("score", "disposition", "crmsync_status", "sla_due", "reassignment_count")
ENGAGEMENT_PROPERTIES = {
    "emails": ("hs_timestamp", "hubspot_owner_id", "hs_email_direction", "hs_email_subject"),
    "calls": ("hs_timestamp", "hubspot_owner_id", "hs_call_direction", "hs_call_title", "hs_call_duration"),
    "meetings": ("hs_timestamp", "hubspot_owner_id", "hs_meeting_title", "hs_meeting_start_time",
                 "hs_meeting_end_time"),
}  # fmt: skip


def decode_position(mark: Watermark | None) -> tuple[datetime | None, datetime | None, str]:
    """(window start, window end if resuming one, last id) from a watermark this adapter produced."""
    if mark is None:
        return None, None, ""
    end_ms, sep, last = mark.last_id.partition(":")
    if sep and end_ms.isdigit():
        return mark.instant, parse_instant(int(end_ms)), last
    return mark.instant, None, ""


class HubSpotCrm:
    """One HubSpot portal behind the CRM port. Build it with :func:`crmsync.crm.connect`."""

    vendor = Vendor.HUBSPOT

    def __init__(
        self,
        settings: ConnectionSettings,
        *,
        clock: Clock,
        fields: FieldMap,
        api: HubSpotApi,
        budget: ApiBudget,
        ledger: ActivityLedger,
        archived_every_s: float = 900.0,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._fields = fields
        self.api = api
        self._budget = budget
        self._archived_every_s = archived_every_s
        self._archived_scanned_at: float | None = None
        self._archived_since: datetime | None = None
        extra = [fields.crm(n) for n in MAPPED] + list(settings.extra_lead_fields)
        self._properties = list(dict.fromkeys([*CONTACT_PROPERTIES, fields.crm("owner"), fields.crm("status"), *extra]))
        self._writer = HubSpotWriter(settings.name, api, fields, ledger, clock)

    @property
    def connection(self) -> str:
        """The connection's name."""
        return self._settings.name

    # -- contacts -----------------------------------------------------------------------------------------
    def pull_leads(self, since: Watermark | None, until: datetime) -> Iterator[Page[Lead]]:
        """Contacts changed after ``since`` up to ``until``, then those archived since the last scan."""
        start, resume_end, last_id = decode_position(since)
        if start is None:
            yield from self._list_all(until)
            return
        if resume_end is not None:
            yield from self._window("contacts", start, resume_end, last_id)
            start = resume_end
        yield from self._window("contacts", start, until, "")
        archived = self._archived(start)
        if archived is not None:
            yield archived

    def _search_body(self, prop: str, start: datetime, end: datetime, last_id: str, props: Sequence[str]) -> Any:
        filters = [
            {"propertyName": prop, "operator": "GTE", "value": hs_millis(start)},
            {"propertyName": prop, "operator": "LTE", "value": hs_millis(end)},
        ]
        if last_id:
            filters.append({"propertyName": "hs_object_id", "operator": "GT", "value": last_id})
        return PublicObjectSearchRequest(
            filter_groups=[{"filters": filters}],
            sorts=[{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
            properties=list(props),
            limit=HS_SEARCH_PAGE,
        )

    def _search_pages(
        self, object_type: str, start: datetime, end: datetime, last_id: str
    ) -> Iterator[tuple[list[dict[str, Any]], str, bool]]:
        """(objects, last id, window done) per search page of one fixed window, by keyset on hs_object_id."""
        if object_type == "contacts":
            prop, props, search = "lastmodifieddate", self._properties, self.api.contacts_search
        else:
            prop, props = "hs_lastmodifieddate", [*ENGAGEMENT_PROPERTIES[object_type], self._fields.crm("activity_key")]
            search = self.api.search[object_type]
        while True:
            body = self._search_body(prop, start, end, last_id, props)
            data, _ = self.api.call(
                f"search:{object_type}", search.do_search_with_http_info, body, search=True, raw=True
            )
            results: list[dict[str, Any]] = data.get("results") or []
            if results:
                last_id = str(results[-1]["id"])
            done = len(results) >= int(data.get("total") or 0) or len(results) < HS_SEARCH_PAGE
            yield results, last_id, done
            if done:
                return

    def _window(self, object_type: str, start: datetime, end: datetime, last_id: str) -> Iterator[Page[Lead]]:
        for results, last, done in self._search_pages(object_type, start, end, last_id):
            mark = Watermark(end, "") if done else Watermark(start, f"{hs_millis(end)}:{last}")
            yield self._lead_page(results, mark)

    def _lead_page(self, results: list[dict[str, Any]], mark: Watermark | None) -> Page[Lead]:
        mapped = [hs_contact(self.connection, r, self._fields) for r in results]
        return Page([m for m in mapped if isinstance(m, Lead)], [m for m in mapped if isinstance(m, Skip)], mark)

    def _list_all(self, until: datetime) -> Iterator[Page[Lead]]:
        """The first pull: every live contact through the list endpoint, ending at ``(until, "")``."""
        for results, done in self._list("contacts", archived=False):
            yield self._lead_page(results, Watermark(until, "") if done else None)
        self._archived_scanned_at = self._clock.monotonic()
        self._archived_since = until

    def _list(
        self, object_type: str, *, archived: bool, associations: bool = False
    ) -> Iterator[tuple[list[dict[str, Any]], bool]]:
        """Every object of a type through the list endpoint (100 a page), optionally with its contacts."""
        after: str | None = None
        if object_type == "contacts":
            api, props = self.api.contacts_basic, self._properties
        else:
            api = self.api.basic[object_type]
            props = [*ENGAGEMENT_PROPERTIES[object_type], self._fields.crm("activity_key")]
        extra: dict[str, Any] = {"associations": ["contacts"]} if associations else {}
        while True:
            data, _ = self.api.call(
                f"list:{object_type}{':archived' if archived else ''}",
                api.get_page_with_http_info,
                limit=HS_LIST_PAGE,
                after=after,
                properties=props,
                archived=archived,
                raw=True,
                **extra,
            )
            after = _after(data)
            yield data.get("results") or [], after is None
            if after is None:
                return

    def _archived(self, start: datetime) -> Page[Lead] | None:
        """Contacts archived since the last scan (or ``start``), if a scan is due; else None."""
        now = self._clock.monotonic()
        if self._archived_scanned_at is not None and now - self._archived_scanned_at < self._archived_every_s:
            return None
        since = self._archived_since or start
        scan_started = self._clock.now()
        found: list[dict[str, Any]] = []
        for results, _ in self._list("contacts", archived=True):
            found.extend(r for r in results if _archived_at(r) is None or parse_instant(_archived_at(r)) >= since)
        self._archived_scanned_at, self._archived_since = now, scan_started
        return self._lead_page(found, None)

    # -- owners and engagements ---------------------------------------------------------------------------
    def pull_owners(self) -> Iterator[Page[Owner]]:
        """Every owner (PERSON and QUEUE), active then archived (deactivated) ones."""
        for archived in (False, True):
            after: str | None = None
            while True:
                data, _ = self.api.call(
                    "owners",
                    self.api.owners.get_page_with_http_info,
                    limit=100,
                    after=after,
                    archived=archived,
                    raw=True,
                )
                mapped = [hs_owner(self.connection, o) for o in data.get("results") or []]
                yield Page([m for m in mapped if isinstance(m, Owner)], [m for m in mapped if isinstance(m, Skip)])
                after = _after(data)
                if after is None:
                    break

    def pull_activities(self, since: Watermark | None, until: datetime) -> Iterator[Page[Activity]]:
        """Emails, calls and meetings changed in the window, on the contacts they are associated with.

        The first pull (no watermark) walks the list endpoint with associations inline (no search, no
        association reads); later pulls search the window and read associations 100 ids a call. One
        watermark covers the three types, so only the final (empty) page carries it, at ``until``.
        """
        for object_type in ENGAGEMENT_PROPERTIES:
            if since is None:
                for results, _done in self._list(object_type, archived=False, associations=True):
                    yield self._activity_page(object_type, results, {str(r["id"]): _inline(r) for r in results})
                continue
            for results, _last, _done in self._search_pages(object_type, since.instant, until, ""):
                contacts = self._contacts_of(object_type, [str(r["id"]) for r in results])
                yield self._activity_page(object_type, results, contacts)
        yield Page([], [], Watermark(until, ""))

    def _activity_page(
        self, object_type: str, results: list[dict[str, Any]], contacts: dict[str, list[str]]
    ) -> Page[Activity]:
        mapped = [
            hs_engagement(self.connection, object_type, r, contacts.get(str(r["id"]), []), self._fields)
            for r in results
        ]
        return Page([m for m in mapped if isinstance(m, Activity)], [m for m in mapped if isinstance(m, Skip)])

    def _contacts_of(self, object_type: str, ids: list[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for chunk in (ids[i : i + HS_BATCH] for i in range(0, len(ids), HS_BATCH)):
            body = BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": i} for i in chunk])
            data, _ = self.api.call(
                f"associations:{object_type}",
                self.api.associations.get_page_with_http_info,
                object_type,
                "contacts",
                body,
                raw=True,
            )
            for row in (data or {}).get("results") or []:
                out[str(row["from"]["id"])] = [str(t["toObjectId"]) for t in row.get("to") or []]
        return out

    def current_owners(self, lead_ids: Sequence[str]) -> dict[str, str | None]:
        """The owner of each live contact, by batch reads of 100."""
        owners: dict[str, str | None] = {}
        ids = list(dict.fromkeys(lead_ids))
        owner_prop = self._fields.crm("owner")
        for chunk in (ids[i : i + HS_BATCH] for i in range(0, len(ids), HS_BATCH)):
            body = BatchReadInputSimplePublicObjectId(inputs=[{"id": i} for i in chunk], properties=[owner_prop])
            data, _ = self.api.call("batch.read:contacts", self.api.contacts_batch.read_with_http_info, body, raw=True)
            for obj in (data or {}).get("results") or []:
                value = (obj.get("properties") or {}).get(owner_prop)
                owners[str(obj["id"])] = value or None
        return owners

    # -- writes -------------------------------------------------------------------------------------------
    def batch_size(self, action: Action) -> int:
        """Batch endpoints take 100 inputs a call."""
        return HS_BATCH

    def apply(self, actions: Sequence[Action]) -> list[Outcome]:
        """Apply ``actions`` (any mix): contact updates and idempotent activity creates; one outcome each."""
        return self._writer.apply(actions)

    @property
    def api_budget(self) -> ApiBudget:
        """The live budget tracker (the dispatcher asks ``api_budget.allow(priority)`` before leasing)."""
        return self._budget

    def allow(self, priority: int) -> bool:
        """Whether new work of ``priority`` fits in the budget (SLA work goes on longest)."""
        return self._budget.allow(priority)

    @property
    def field_map(self) -> FieldMap:
        """Logical → CRM property names in use."""
        return self._fields

    def field_names(self, object_type: str) -> set[str]:
        """Names of the properties of ``object_type`` (one properties call)."""
        data, _ = self.api.call(f"properties:{object_type}", self.api.properties.get_all_with_http_info, object_type)
        return {str(p.name) for p in (data.results or [])}

    def create_property(self, object_type: str, body: dict[str, Any]) -> bool:
        """Create a custom property; False when one of that name exists already."""
        try:
            self.api.call(f"properties.create:{object_type}", self.api.properties.create_with_http_info, object_type,
                          body, retry=False)  # fmt: skip
        except PermanentRecordError as err:
            if err.status == 409:
                return False
            raise
        return True

    def budget(self) -> Budget:
        """The quota as last reported, and the calls made by endpoint."""
        return self._budget.snapshot()


def _inline(obj: dict[str, Any]) -> list[str]:
    """Contact ids from a list result's inline ``associations`` (``{"contacts": {"results": [{"id"}]}}``)."""
    block = (obj.get("associations") or {}).get("contacts") or {}
    return [str(item["id"]) for item in block.get("results") or [] if item.get("id") is not None]


def _after(data: dict[str, Any] | None) -> str | None:
    """The ``paging.next.after`` cursor of a raw page, or None on the last page."""
    nxt = ((data or {}).get("paging") or {}).get("next") or {}
    after = nxt.get("after")
    return str(after) if after else None


def _archived_at(obj: dict[str, Any]) -> object:
    return obj.get("archivedAt") or obj.get("archived_at")
