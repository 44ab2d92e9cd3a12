"""HubSpot writes: batched contact updates with per-input outcomes, and idempotent activity creation.

Contact updates: batch update, at most 100 inputs with distinct ids per call; a 207 lists the failed inputs
(``context.ids``), everything else landed. A whole-batch 4xx (one bad input spoils the batch) is bisected
until the bad input stands alone, so good inputs still land and the bad one gets its own message.

Activity creates (tasks, emails, meetings, calls): per key, the ledger says done (no call), pending (reconcile
first: batch read by the unique key property) or new. New keys are begun in the ledger, then created in one
batch with ``objectWriteTraceId`` = key (so a 207 names failures per input) and the contact association; each
created id completes its key. If the create call fails in a way that may have landed (timeout, 5xx), the retry
loop reconciles before creating again, so nothing is created twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from hubspot.crm.contacts import BatchInputSimplePublicObjectBatchInput, PublicObjectSearchRequest
from hubspot.crm.objects.emails import (
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchReadInputSimplePublicObjectId,
)

from crmsync.clock import Clock
from crmsync.crm.hs_client import HubSpotApi
from crmsync.crm.ledger import ActivityLedger
from crmsync.crm.mapping import FieldMap
from crmsync.crm.ports import Outcome, OutcomeStatus
from crmsync.crm.translate import error_outcome, hs_error_outcome
from crmsync.crm.writes import HsWrite, hs_write
from crmsync.domain import Action
from crmsync.errors import CrmsyncError, PermanentRecordError
from crmsync.outbox.model import priority_of

log = structlog.get_logger(__name__)
BATCH = 100


class HubSpotWriter:
    """Applies batches of actions to one portal."""

    def __init__(self, connection: str, api: HubSpotApi, fields: FieldMap, ledger: ActivityLedger, clock: Clock):
        self._connection = connection
        self._api = api
        self._fields = fields
        self._ledger = ledger
        self._clock = clock

    def apply(self, actions: Sequence[Action]) -> list[Outcome]:
        """One outcome per action, in order."""
        now = self._clock.now()
        writes = [hs_write(a, self._fields, now) for a in actions]
        outcomes: list[Outcome | None] = [None] * len(actions)
        updates = [i for i, w in enumerate(writes) if w.op == "update"]
        for batch in _distinct_batches(updates, writes):
            priority = min(priority_of(actions[i]) for i in batch)
            for i, outcome in zip(batch, self._update([writes[i] for i in batch], priority), strict=True):
                outcomes[i] = outcome
        by_type: dict[str, list[int]] = {}
        for i, w in enumerate(writes):
            if w.op == "create":
                by_type.setdefault(w.object_type, []).append(i)
        for object_type, indexes in by_type.items():
            for start in range(0, len(indexes), BATCH):
                part = indexes[start : start + BATCH]
                priority = min(priority_of(actions[i]) for i in part)
                results = self._create(object_type, [writes[i] for i in part], priority)
                for i, outcome in zip(part, results, strict=True):
                    outcomes[i] = outcome
        return [o if o is not None else Outcome(OutcomeStatus.RETRY, code="NOT_SENT") for o in outcomes]

    # -- updates ------------------------------------------------------------------------------------------
    def _update(self, writes: list[HsWrite], priority: int) -> list[Outcome]:
        inputs = [{"id": w.record_id, "properties": w.properties} for w in writes]
        body = BatchInputSimplePublicObjectBatchInput(inputs=inputs)
        try:
            data, _ = self._api.call(
                "batch.update:contacts", self._api.contacts_batch.update_with_http_info, body, priority=priority
            )
        except PermanentRecordError as error:
            if len(writes) == 1:
                return [error_outcome(error)]
            half = len(writes) // 2
            log.info("hubspot_batch_bisect", size=len(writes), code=error.code)
            return self._update(writes[:half], priority) + self._update(writes[half:], priority)
        except CrmsyncError as error:
            return [error_outcome(error)] * len(writes)
        failed: dict[str, Outcome] = {}
        for err in _errors(data):
            for rid in (err.get("context") or {}).get("ids") or []:
                failed[str(rid)] = hs_error_outcome(err)
        return [failed.get(str(w.record_id), Outcome(OutcomeStatus.DONE, crm_id=w.record_id)) for w in writes]

    # -- idempotent creates -------------------------------------------------------------------------------
    def _create(self, object_type: str, writes: list[HsWrite], priority: int) -> list[Outcome]:
        keys = [str(w.key) for w in writes]
        known = self._ledger.lookup(self._connection, keys)
        outcome: dict[str, Outcome] = {
            k: Outcome(OutcomeStatus.DONE, crm_id=e.crm_id) for k, e in known.items() if e.crm_id is not None
        }
        pending = [k for k, e in known.items() if e.crm_id is None]
        todo = [w for w in writes if str(w.key) not in outcome]
        first = [True]

        def attempt() -> None:
            if pending or not first[0]:
                outcome.update(self._reconcile(object_type, [str(w.key) for w in todo if str(w.key) not in outcome]))
            first[0] = False
            missing = [w for w in todo if str(w.key) not in outcome]
            if missing:
                outcome.update(self._create_batch(object_type, missing, priority))

        try:
            self._api.retry_policy.call(attempt, endpoint=f"batch.create:{object_type}")
        except CrmsyncError as error:
            fallback = error_outcome(error)
            return [outcome.get(k, fallback) for k in keys]
        return [outcome.get(k, Outcome(OutcomeStatus.RETRY, code="NOT_CONFIRMED")) for k in keys]

    def _reconcile(self, object_type: str, keys: list[str]) -> dict[str, Outcome]:
        """Objects that already carry these keys (created before a crash or timeout): complete them."""
        if not keys:
            return {}
        prop = self._fields.crm("activity_key")
        body = BatchReadInputSimplePublicObjectId(
            inputs=[{"id": k} for k in keys],
            properties=[prop],
            id_property=prop,
        )
        batch = self._api.batch[object_type]
        try:
            data, _ = self._api.call(f"batch.read:{object_type}", batch.read_with_http_info, body, retry=False)
            rows = [(str(o.id), (o.properties or {}).get(prop)) for o in data.results or []]
        except PermanentRecordError:  # the key property is not unique in this portal: search for it instead
            rows = self._search_keys(object_type, prop, keys)
        found: dict[str, Outcome] = {}
        for crm_id, key in rows:
            if key in keys:
                self._ledger.complete(self._connection, key, crm_id)
                found[key] = Outcome(OutcomeStatus.DONE, crm_id=crm_id)
        if found:
            log.info("hubspot_activity_reconciled", object_type=object_type, found=len(found))
        return found

    def _search_keys(self, object_type: str, prop: str, keys: list[str]) -> list[tuple[str, str | None]]:
        """(id, key) of the objects whose key property is one of ``keys``, by search (``IN``, 100 values)."""
        body = PublicObjectSearchRequest(
            filter_groups=[{"filters": [{"propertyName": prop, "operator": "IN", "values": keys}]}],
            properties=[prop],
            limit=200,
        )
        search = self._api.search[object_type]
        data, _ = self._api.call(
            f"search:{object_type}", search.do_search_with_http_info, body, search=True, retry=False, raw=True
        )
        return [(str(r["id"]), (r.get("properties") or {}).get(prop)) for r in (data or {}).get("results") or []]

    def _create_batch(self, object_type: str, writes: list[HsWrite], priority: int) -> dict[str, Outcome]:
        keys = [str(w.key) for w in writes]
        self._ledger.begin(self._connection, keys)
        inputs = [
            {
                "properties": w.properties,
                "objectWriteTraceId": w.key,
                "associations": [
                    {
                        "to": {"id": w.contact_id},
                        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": w.association_type}],
                    }
                ],
            }
            for w in writes
        ]
        body = BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs)
        batch = self._api.batch[object_type]
        data, _ = self._api.call(
            f"batch.create:{object_type}", batch.create_with_http_info, body, priority=priority, retry=False
        )
        prop = self._fields.crm("activity_key")
        out: dict[str, Outcome] = {}
        for obj in data.results or []:
            key = getattr(obj, "object_write_trace_id", None) or (obj.properties or {}).get(prop)
            if key in keys:
                self._ledger.complete(self._connection, key, str(obj.id))
                out[key] = Outcome(OutcomeStatus.DONE, crm_id=str(obj.id))
        for err in _errors(data):
            for key in (err.get("context") or {}).get("objectWriteTraceId") or []:
                out[str(key)] = hs_error_outcome(err)
        return out


def _errors(data: Any) -> list[dict[str, Any]]:
    errors = getattr(data, "errors", None) or []
    return [e.to_dict() if hasattr(e, "to_dict") else dict(e) for e in errors]


def _distinct_batches(indexes: list[int], writes: list[HsWrite]) -> list[list[int]]:
    """Batches of ≤ 100 whose record ids are distinct (a second update of a contact goes to a later batch)."""
    batches: list[tuple[list[int], set[str]]] = []
    for i in indexes:
        rid = str(writes[i].record_id)
        for batch, ids in batches:
            if len(batch) < BATCH and rid not in ids:
                batch.append(i)
                ids.add(rid)
                break
        else:
            batches.append(([i], {rid}))
    return [b for b, _ in batches]
