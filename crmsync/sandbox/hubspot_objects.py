"""HubSpot CRM v3 object endpoints over the sandbox org: contacts and the five engagement objects.

Routes (``{type}`` is contacts, emails, calls, meetings, notes or tasks; endpoint names ``hs.{type}.…``):
``GET /crm/v3/objects/{type}`` (list: ``limit`` ≤ 100, ``after`` cursor = next id, ``properties``,
``archived=true`` lists only archived records, ``associations``), ``GET/PATCH/DELETE …/{id}`` (``idProperty``),
``POST …`` (create, associations at create with the documented HUBSPOT_DEFINED type ids),
``POST …/search``, ``POST …/batch/read|create|update|upsert|archive`` (≤ 100 inputs).

Batch create answers 201, or 207 with ``errors`` when every input carries an ``objectWriteTraceId`` and some
fail; without trace ids one bad input fails the whole batch (400) and nothing is written. Batch read, update
and upsert answer 200, or 207 listing the inputs that failed (unknown ids, injected record faults).
Per https://developers.hubspot.com/docs/api-reference/error-handling (multi-status) and the legacy v3
object reference (https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/objects/batch/create-objects).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any

from crmsync.sandbox.hubspot_props import convert_properties, ensure_unique_email, missing_required
from crmsync.sandbox.hubspot_search import parse_search, scan, sort_records
from crmsync.sandbox.hubspot_wire import (
    OBJECT_LABEL,
    as_batch_error,
    batch_error,
    batch_response,
    fail,
    int_arg,
    paging,
    public_object,
    request_json,
    wanted_properties,
)
from crmsync.sandbox.org import Org, Record
from crmsync.sandbox.schema import HS_ASSOCIATION_TYPES, HS_ENGAGEMENTS
from crmsync.sandbox.server import HttpError, Request, Response, Router, json_response

OBJECTS = ("contacts", *HS_ENGAGEMENTS)
MAX_PAGE, MAX_BATCH = 100, 100
_SINGULAR = {"contacts": "contact", "emails": "email", "calls": "call", "meetings": "meeting", "notes": "note",
             "tasks": "task"}  # fmt: skip


class ObjectApi:
    """The object endpoints of one portal (``org``)."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self._ids: dict[str, tuple[tuple[int, int], list[str]]] = {}

    def register(self, router: Router) -> None:
        """Add every object route to ``router``."""
        routes: list[tuple[str, str, str, Callable[[Request], Response]]] = [
            ("POST", r"/search/?", "search", self.search),
            ("POST", r"/batch/read/?", "batch.read", self.batch_read),
            ("POST", r"/batch/create/?", "batch.create", self.batch_create),
            ("POST", r"/batch/update/?", "batch.update", self.batch_update),
            ("POST", r"/batch/upsert/?", "batch.upsert", self.batch_upsert),
            ("POST", r"/batch/archive/?", "batch.archive", self.batch_archive),
            ("GET", r"/?", "list", self.list_page),
            ("POST", r"/?", "create", self.create),
            ("GET", r"/(?P<id>[^/]+)/?", "get", self.get),
            ("PATCH", r"/(?P<id>[^/]+)/?", "update", self.update),
            ("DELETE", r"/(?P<id>[^/]+)/?", "archive", self.archive),
        ]
        for obj in OBJECTS:
            for method, tail, name, handler in routes:
                router.add(method, f"/crm/v3/objects/(?P<obj>{obj})" + tail, f"hs.{obj}.{name}", handler)

    # -- helpers ------------------------------------------------------------------------------------------
    def _render(self, req: Request, rec: Record, asked: list[str] | None, **kw: Any) -> dict[str, Any]:
        obj = req.params["obj"]
        return public_object(obj, rec, wanted_properties(obj, self.org.schema(obj), asked), **kw)

    def _resolve(self, obj: str, ident: str, id_property: str | None, *, archived: bool = False) -> str | None:
        """The record id for ``ident`` (an id, or a value of the unique ``id_property``)."""
        if not id_property or id_property == "hs_object_id":
            found = self.org.get(obj, ident, include_deleted=archived)
            if found is None or (archived and not self.org.is_deleted(obj, ident)):
                return None
            return ident
        fdef = self.org.schema(obj).fields.get(id_property)
        if fdef is None or not fdef.unique:
            raise fail(400, "VALIDATION_ERROR", f"{id_property} is not a unique identifier property of {obj}")
        value = ident.lower() if id_property == "email" else ident
        try:
            ids = self.org.find(obj, id_property, value, include_deleted=archived)
        except KeyError:  # a custom unique property created at run time has no index: scan
            rows = self.org.rows(obj, include_deleted=archived)
            ids = [str(r["hs_object_id"]) for r in rows if r.get(id_property) == value]
        return ids[0] if ids else None

    def _associations(self, obj: str, raw: Any) -> list[tuple[str, str, int, int]]:
        """Validated associations-at-create: (to object, to id, type id, reverse type id)."""
        out: list[tuple[str, str, int, int]] = []
        for item in raw or []:
            try:
                to_id = str(item["to"]["id"])
                specs = item["types"]
            except (KeyError, TypeError):
                raise fail(400, "VALIDATION_ERROR", "Each association needs to.id and types") from None
            for spec in specs:
                type_id = int(spec.get("associationTypeId", -1)) if isinstance(spec, dict) else -1
                to_obj = next((t for (f, t), n in HS_ASSOCIATION_TYPES.items() if f == obj and n == type_id), None)
                if to_obj is None:
                    raise fail(400, "VALIDATION_ERROR", f"Association type {type_id} is not valid from {obj}")
                if self.org.get(to_obj, to_id) is None:
                    raise fail(400, "VALIDATION_ERROR", f"Cannot associate: {_SINGULAR[to_obj]} {to_id} does not exist")
                out.append((to_obj, to_id, type_id, HS_ASSOCIATION_TYPES[(to_obj, obj)]))
        return out

    def _create_one(self, req: Request, item: Any) -> Record:
        """Validate and write one create input (raises HttpError); associations are checked before writing."""
        obj = req.params["obj"]
        if not isinstance(item, dict):
            raise fail(400, "VALIDATION_ERROR", "Each input must be an object")
        values = convert_properties(self.org, obj, item.get("properties"), creating=True)
        required = missing_required(obj, values)
        if required is not None:
            raise required
        links = self._associations(obj, item.get("associations"))
        with self.org.lock:
            if obj == "contacts":
                ensure_unique_email(self.org, values, None)
                values.setdefault("hs_analytics_source", "OFFLINE")
            rec = self.org.create(obj, values, now=req.now)
            for to_obj, to_id, type_id, reverse in links:
                self.org.associate(obj, rec["hs_object_id"], to_obj, to_id, type_id, reverse)
        return rec

    def _update_one(self, req: Request, record_id: str, raw: Any) -> Record:
        obj = req.params["obj"]
        values = convert_properties(self.org, obj, raw, creating=False)
        with self.org.lock:
            if obj == "contacts":
                ensure_unique_email(self.org, values, record_id)
            return self.org.update(obj, record_id, values, now=req.now)

    def _not_found(self, req: Request) -> HttpError:
        return fail(404, "OBJECT_NOT_FOUND", "resource not found")

    # -- single-record endpoints --------------------------------------------------------------------------
    def list_page(self, req: Request) -> Response:
        """One page of records in id order; ``after`` is the id the page starts at."""
        obj = req.params["obj"]
        archived = (req.arg("archived") or "false").lower() == "true"
        limit = min(max(int_arg(req, "limit", 10), 1), MAX_PAGE)
        after = int_arg(req, "after", 0)
        ids = self._archived_ids(obj) if archived else self._live_ids(obj)
        start = bisect.bisect_left(ids, after, key=int)
        page, rest = ids[start : start + limit], ids[start + limit : start + limit + 1]
        asked = req.query.get("properties")
        assoc = [a for raw in req.query.get("associations", []) for a in raw.split(",") if a in OBJECTS]
        results = []
        for record_id in page:
            rec = self.org.get(obj, record_id, include_deleted=True)
            if rec is not None:
                results.append(self._with_associations(obj, self._render(req, rec, asked), assoc))
        return json_response(200, {"results": results, **paging(rest[0] if rest else None)})

    def _live_ids(self, obj: str) -> list[str]:
        """Live ids in creation order, which is ascending numeric order (Org.new_id); cached until the number
        of records or of archived records changes (updates never change the id set)."""
        key = (self.org.count(obj, include_deleted=True), self.org.count(obj))
        cached = self._ids.get(obj)
        if cached is None or cached[0] != key:
            cached = (key, self.org.ids(obj))
            self._ids[obj] = cached
        return cached[1]

    def _archived_ids(self, obj: str) -> list[str]:
        live = set(self._live_ids(obj))
        return [i for i in self.org.ids(obj, include_deleted=True) if i not in live]

    def _with_associations(self, obj: str, out: dict[str, Any], to_objs: list[str]) -> dict[str, Any]:
        found = {}
        for to_obj in to_objs:
            links = self.org.associations(obj, out["id"], to_obj)
            if links:
                kind = f"{_SINGULAR[obj]}_to_{_SINGULAR[to_obj]}"
                found[to_obj] = {"results": [{"id": tid, "type": kind} for tid, _ in links]}
        if found:
            out["associations"] = found
        return out

    def get(self, req: Request) -> Response:
        """One record by id or ``idProperty`` (404 OBJECT_NOT_FOUND when absent)."""
        obj = req.params["obj"]
        archived = (req.arg("archived") or "false").lower() == "true"
        record_id = self._resolve(obj, req.params["id"], req.arg("idProperty"), archived=archived)
        rec = self.org.get(obj, record_id, include_deleted=archived) if record_id else None
        if rec is None:
            raise self._not_found(req)
        assoc = [a for raw in req.query.get("associations", []) for a in raw.split(",") if a in OBJECTS]
        return json_response(
            200, self._with_associations(obj, self._render(req, rec, req.query.get("properties")), assoc)
        )

    def create(self, req: Request) -> Response:
        """201 with the new record (its properties as sent plus the defaults)."""
        obj = req.params["obj"]
        body = request_json(req)
        rec = self._create_one(req, body)
        sent = list(body.get("properties") or {})
        return json_response(201, self._render(req, rec, [*sent, *wanted_properties(obj, self.org.schema(obj), None)]))

    def update(self, req: Request) -> Response:
        """200 with the updated record; 404 when the id is unknown."""
        obj = req.params["obj"]
        record_id = self._resolve(obj, req.params["id"], req.arg("idProperty"))
        if record_id is None:
            raise self._not_found(req)
        body = request_json(req)
        if not isinstance(body, dict):
            raise fail(400, "VALIDATION_ERROR", "Invalid input JSON: the body must be an object with properties")
        raw = body.get("properties")
        rec = self._update_one(req, record_id, raw)
        return json_response(
            200, self._render(req, rec, [*list(raw or {}), *wanted_properties(obj, self.org.schema(obj), None)])
        )

    def archive(self, req: Request) -> Response:
        """204; archiving an unknown or archived record is also 204 (HubSpot is idempotent here)."""
        obj = req.params["obj"]
        if self.org.get(obj, req.params["id"]) is not None:
            self.org.delete(obj, req.params["id"], now=req.now)
        return Response(204)

    def search(self, req: Request) -> Response:
        """``{total, results, paging}``; archived records never match."""
        obj = req.params["obj"]
        schema = self.org.schema(obj)
        spec = parse_search(request_json(req), schema)
        matches = scan(self.org, obj, spec.predicate)
        sort_records(matches, spec.sort_keys, schema)
        page = matches[spec.offset : spec.offset + spec.limit]
        end = spec.offset + len(page)
        records = [self.org.get(obj, view.record_id) for view in page]
        results = [self._render(req, rec, list(spec.properties)) for rec in records if rec is not None]
        return json_response(
            200, {"total": len(matches), "results": results, **paging(str(end) if end < len(matches) else None)}
        )

    # -- batches ------------------------------------------------------------------------------------------
    def _inputs(self, req: Request) -> tuple[dict[str, Any], list[Any]]:
        body = request_json(req)
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list):
            raise fail(400, "VALIDATION_ERROR", "Invalid input JSON: 'inputs' must be a list")
        if len(inputs) > MAX_BATCH:
            raise fail(400, "VALIDATION_ERROR", f"Too many inputs: {len(inputs)} (at most {MAX_BATCH} a batch)")
        if not all(isinstance(item, dict) for item in inputs):
            raise fail(400, "VALIDATION_ERROR", "Invalid input JSON: every input must be an object")
        return body, inputs

    def _fault_error(self, req: Request, count: int) -> list[dict[str, Any] | None]:
        """Injected per-record faults as batch errors (category = the rule's code)."""
        out: list[dict[str, Any] | None] = []
        for fault in req.record_faults(count):
            if fault is None:
                out.append(None)
            else:
                message = fault.rule.message or f"Injected {fault.rule.code} for this input"
                out.append(batch_error(fault.rule.code, message, {}))
        return out

    def batch_read(self, req: Request) -> Response:
        """200 with the found records; 207 with one OBJECT_NOT_FOUND error naming every unknown id."""
        obj = req.params["obj"]
        body, inputs = self._inputs(req)
        archived = (req.arg("archived") or "false").lower() == "true"
        asked = body.get("properties")
        results, missing = [], []
        for item in inputs:
            ident = str(item.get("id"))
            record_id = self._resolve(obj, ident, body.get("idProperty"), archived=archived)
            rec = self.org.get(obj, record_id, include_deleted=archived) if record_id else None
            if rec is None:
                missing.append(ident)
            else:
                results.append(self._render(req, rec, asked))
        errors = []
        if missing:
            message = (
                f"Could not get some {OBJECT_LABEL[obj]} objects, they may be deleted or not exist. "
                "Check that ids are valid."
            )
            errors.append(batch_error("OBJECT_NOT_FOUND", message, {"ids": missing}))
        return batch_response(200, results, errors, req.now, req.now)

    def batch_create(self, req: Request) -> Response:
        """201; 207 with per-input errors in multi-status mode (every input has an objectWriteTraceId)."""
        _, inputs = self._inputs(req)
        traces = [item.get("objectWriteTraceId") for item in inputs]
        multi = bool(inputs) and all(isinstance(t, str) and t for t in traces) and len(set(traces)) == len(traces)
        faults = self._fault_error(req, len(inputs))
        if not multi:
            with self.org.lock:
                first_fault = next((f for f in faults if f is not None), None)
                if first_fault is not None:
                    raise fail(400, first_fault["category"], first_fault["message"])
                return self._all_or_nothing(req, inputs)
        results, errors = [], []
        for item, trace, fault in zip(inputs, traces, faults, strict=True):
            if fault is not None:
                errors.append({**fault, "context": {"objectWriteTraceId": [trace]}})
                continue
            try:
                rec = self._create_one(req, item)
            except HttpError as refused:
                errors.append(as_batch_error(refused, {"objectWriteTraceId": [str(trace)]}))
                continue
            results.append(self._render(req, rec, list(item.get("properties") or {}), trace=trace))
        return batch_response(201, results, errors, req.now, req.now)

    def _all_or_nothing(self, req: Request, inputs: list[Any]) -> Response:
        """Create every input or none: validate all first (the org lock is held by the caller)."""
        obj = req.params["obj"]
        for item in inputs:
            values = convert_properties(self.org, obj, item.get("properties"), creating=True)
            required = missing_required(obj, values)
            if required is not None:
                raise required
            self._associations(obj, item.get("associations"))
            if obj == "contacts":
                ensure_unique_email(self.org, values, None)
        results = [
            self._render(req, self._create_one(req, item), list(item.get("properties") or {})) for item in inputs
        ]
        return batch_response(201, results, [], req.now, req.now)

    def batch_update(self, req: Request) -> Response:
        """200, or 207 with OBJECT_NOT_FOUND / injected errors for the inputs that failed. Every input's
        properties are validated before anything is written: one invalid value fails the batch with 400."""
        obj = req.params["obj"]
        _, inputs = self._inputs(req)
        faults = self._fault_error(req, len(inputs))
        results, errors, writes = [], [], []
        with self.org.lock:
            for item, fault in zip(inputs, faults, strict=True):
                ident = str(item.get("id"))
                record_id = None if fault else self._resolve(obj, ident, item.get("idProperty"))
                if fault is None and record_id is None:
                    fault = batch_error("OBJECT_NOT_FOUND", f"{OBJECT_LABEL[obj]} {ident} does not exist", {})
                if fault is not None:
                    errors.append({**fault, "context": {"ids": [ident]}})
                    continue
                convert_properties(self.org, obj, item.get("properties"), creating=False)
                writes.append((record_id, item.get("properties")))
            for record_id, props in writes:
                rec = self._update_one(req, str(record_id), props)
                results.append(self._render(req, rec, list(props or {})))
        return batch_response(200, results, errors, req.now, req.now)

    def batch_upsert(self, req: Request) -> Response:
        """200 with ``new`` true/false per input (``idProperty`` must be a unique property); inputs are
        validated before anything is written."""
        obj = req.params["obj"]
        _, inputs = self._inputs(req)
        faults = self._fault_error(req, len(inputs))
        results, errors, writes = [], [], []
        with self.org.lock:
            for item, fault in zip(inputs, faults, strict=True):
                ident, id_property = str(item.get("id", "")), item.get("idProperty")
                if fault is not None:
                    errors.append({**fault, "context": {"ids": [ident]}})
                    continue
                if not id_property:
                    raise fail(400, "VALIDATION_ERROR", "Each upsert input needs an idProperty")
                record_id = self._resolve(obj, ident, id_property)
                props = dict(item.get("properties") or {})
                if record_id is None:
                    props.setdefault(id_property, ident)
                convert_properties(self.org, obj, props, creating=record_id is None)
                writes.append((record_id, props))
            for record_id, props in writes:
                if record_id is None:
                    rec, new = self._create_one(req, {"properties": props}), True
                else:
                    rec, new = self._update_one(req, record_id, props), False
                results.append({**self._render(req, rec, list(props)), "new": new})
        return batch_response(200, results, errors, req.now, req.now)

    def batch_archive(self, req: Request) -> Response:
        """204; unknown ids are ignored."""
        obj = req.params["obj"]
        _, inputs = self._inputs(req)
        for item in inputs:
            ident = str(item.get("id"))
            if self.org.get(obj, ident) is not None:
                self.org.delete(obj, ident, now=req.now)
        return Response(204)
