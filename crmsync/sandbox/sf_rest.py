"""Salesforce REST writes for the sandbox: sObject rows and sObject Collections.

- rows: ``POST sobjects/X/`` → 201 ``{id, success, errors}``; ``PATCH``/``DELETE sobjects/X/id`` → 204;
  ``PATCH sobjects/X/Field/value`` (upsert) → 201 with ``created: true`` or 200 with ``created: false``;
  errors as the single-resource array ``[{"message", "errorCode", "fields"}]``; ``If-Unmodified-Since``
  on PATCH → 412 ``PRECONDITION_FAILED`` when the record changed after that date.
- collections (``composite/sobjects``): create (POST), update (PATCH), upsert (PATCH ``/X/Field``),
  delete (DELETE ``?ids=``), retrieve (GET/POST ``/X``); at most 200 records; 200 with one result per record
  in order, ``{id?, success, errors: [{statusCode, message, fields}]}``; with ``allOrNone`` a single
  failure fails every record, the valid ones with ``ALL_OR_NONE_OPERATION_ROLLED_BACK``.

Injected per-record faults (``record_error`` rules) fail the records they hit with the rule's code, in
collections and in single-row writes alike. ``Sforce-Auto-Assign`` applies to every Lead write here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from crmsync.sandbox.faults import Fault
from crmsync.sandbox.server import Request, Response
from crmsync.sandbox.sf_read import SfState, record_error, render_record, sf_error, sf_json
from crmsync.sandbox.sf_write import ROLLED_BACK, Prepared, RecordError, WriteOptions

MAX_COLLECTION = 200
_FAULT_MESSAGES = {
    "UNABLE_TO_LOCK_ROW": "unable to obtain exclusive access to this record or 1 records",
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": "Validation rule failed for this record.",
}


def options(req: Request) -> WriteOptions:
    """The write headers of ``req``; 400 when If-Unmodified-Since is not an HTTP date."""
    auto = (req.header("Sforce-Auto-Assign") or "TRUE").strip().upper() != "FALSE"
    raw = req.header("If-Unmodified-Since")
    if raw is None:
        return WriteOptions(auto_assign=auto)
    try:
        since = parsedate_to_datetime(raw)
    except (TypeError, ValueError) as bad:
        raise sf_error(400, "INVALID_HEADER_VALUE", f"Invalid If-Unmodified-Since header: {raw}") from bad
    if since.tzinfo is None:
        raise sf_error(400, "INVALID_HEADER_VALUE", f"Invalid If-Unmodified-Since header: {raw}")
    return WriteOptions(auto_assign=auto, unmodified_since=since)


def _object_body(req: Request) -> dict[str, Any]:
    try:
        body = req.json()
    except ValueError as bad:
        raise sf_error(400, "JSON_PARSER_ERROR", "The request body is not valid JSON") from bad
    if not isinstance(body, dict):
        raise sf_error(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of object from a non-object value")
    return body


def fault_error(fault: Fault, record_id: str | None) -> RecordError:
    """The per-record error an injected fault stands for."""
    code = fault.rule.code
    message = fault.rule.message or _FAULT_MESSAGES.get(code, f"{code} (injected by the sandbox)")
    if code == "UNABLE_TO_LOCK_ROW" and record_id:
        message = f"{message}: {record_id}"
    return RecordError(code, message)


def _single(state: SfState, req: Request, prepare: Callable[[], Prepared]) -> tuple[Prepared, str]:
    """Prepare, draw the record's fault, apply under the org lock; errors become single-resource answers."""
    with state.org.lock:
        try:
            prepared = prepare()
            fault = req.record_faults(1)[0]
            if fault is not None:
                raise fault_error(fault, prepared.record_id)
            return prepared, state.writer.apply(prepared, req.now)
        except RecordError as err:
            raise record_error(err) from err


# -- rows -------------------------------------------------------------------------------------------------
def create_row(state: SfState, req: Request) -> Response:
    """``POST sobjects/X/``."""
    obj = state.sobject(req.params["obj"]).name
    body, opts = _object_body(req), options(req)
    _, rid = _single(state, req, lambda: state.writer.prepare_create(obj, body, opts))
    return sf_json(201, {"id": rid, "success": True, "errors": []})


def update_row(state: SfState, req: Request) -> Response:
    """``PATCH sobjects/X/id``."""
    obj = state.sobject(req.params["obj"]).name
    body, opts = _object_body(req), options(req)
    _single(state, req, lambda: state.writer.prepare_update(obj, req.params["id"], body, opts))
    return Response(204)


def delete_row(state: SfState, req: Request) -> Response:
    """``DELETE sobjects/X/id``."""
    obj = state.sobject(req.params["obj"]).name
    _single(state, req, lambda: state.writer.prepare_delete(obj, req.params["id"]))
    return Response(204)


def upsert_row(state: SfState, req: Request) -> Response:
    """``PATCH sobjects/X/Field/value``: 201 created / 200 updated, both with a body (API 46.0+)."""
    obj = state.sobject(req.params["obj"]).name
    body, opts = _object_body(req), options(req)
    field, value = req.params["field"], req.params["value"]
    prepared, rid = _single(state, req, lambda: state.writer.prepare_upsert(obj, field, value, body, opts))
    status = 201 if prepared.created else 200
    return sf_json(status, {"id": rid, "success": True, "errors": [], "created": prepared.created})


# -- collections ------------------------------------------------------------------------------------------
def _records(req: Request) -> tuple[list[Any], bool]:
    body = _object_body(req)
    records = body.get("records")
    if not isinstance(records, list):
        raise sf_error(400, "JSON_PARSER_ERROR", "records must be an array of sObjects")
    if len(records) > MAX_COLLECTION:
        raise sf_error(
            400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into this call"
        )
    return records, bool(body.get("allOrNone", False))


def _rec_type(raw: Any) -> str:
    if not isinstance(raw, Mapping):
        raise RecordError("JSON_PARSER_ERROR", "a record must be an object")
    attributes = raw.get("attributes")
    kind = attributes.get("type") if isinstance(attributes, Mapping) else None
    if not isinstance(kind, str) or not kind:
        raise RecordError("INVALID_TYPE", "Must send a concrete entity type.")
    return kind


def _run(
    state: SfState, req: Request, items: list[Any], all_or_none: bool, prepare: Callable[[Any], Prepared]
) -> Response:
    """Prepare every item, draw per-record faults, then apply (all, the valid ones, or none)."""
    faults = req.record_faults(len(items))
    with state.org.lock:
        outcomes: list[tuple[str | None, Prepared | RecordError]] = []
        for item, fault in zip(items, faults, strict=True):
            rid = _given_id(item)
            try:
                prepared = prepare(item)
                rid = prepared.record_id
                outcomes.append((rid, fault_error(fault, rid) if fault else prepared))
            except RecordError as err:
                outcomes.append((rid, err))
            except Exception as err:  # a sandbox bug must not abort the batch
                outcomes.append((rid, RecordError("UNKNOWN_EXCEPTION", type(err).__name__)))
        failed = any(isinstance(o, RecordError) for _, o in outcomes)
        results = [_result(state, req, rid, o, rolled_back=all_or_none and failed) for rid, o in outcomes]
    return sf_json(200, results)


def _given_id(item: Any) -> str | None:
    if isinstance(item, str):
        return item
    rid = item.get("id") or item.get("Id") if isinstance(item, Mapping) else None
    return rid if isinstance(rid, str) else None


def _result(
    state: SfState, req: Request, rid: str | None, outcome: Prepared | RecordError, *, rolled_back: bool
) -> dict[str, Any]:
    if isinstance(outcome, RecordError):
        failure: dict[str, Any] = {"id": rid} if rid else {}
        return {**failure, "success": False, "errors": [outcome.as_item(key="statusCode")]}
    out: dict[str, Any] = {"id": outcome.record_id}
    if rolled_back:
        code, message = ROLLED_BACK
        out.update(success=False, errors=[{"statusCode": code, "message": message, "fields": []}])
    else:
        out.update(id=state.writer.apply(outcome, req.now), success=True, errors=[])
    if outcome.kind != "delete" and req.endpoint.endswith("upsert"):
        out["created"] = outcome.created
    if out["id"] is None:
        del out["id"]
    return out


def collection_create(state: SfState, req: Request) -> Response:
    """``POST composite/sobjects``."""
    records, all_or_none = _records(req)
    opts = options(req)

    def prepare(raw: Any) -> Prepared:
        obj = state_obj(state, _rec_type(raw))
        return state.writer.prepare_create(obj, raw, opts)

    return _run(state, req, records, all_or_none, prepare)


def collection_update(state: SfState, req: Request) -> Response:
    """``PATCH composite/sobjects``: each record names its ``id``."""
    records, all_or_none = _records(req)
    opts = WriteOptions(auto_assign=options(req).auto_assign)

    def prepare(raw: Any) -> Prepared:
        obj = state_obj(state, _rec_type(raw))
        rid = raw.get("id") or raw.get("Id")
        if not isinstance(rid, str) or not rid:
            raise RecordError("MISSING_ARGUMENT", "Id not specified in an update call", [])
        return state.writer.prepare_update(obj, rid, raw, opts)

    return _run(state, req, records, all_or_none, prepare)


def collection_upsert(state: SfState, req: Request) -> Response:
    """``PATCH composite/sobjects/X/Field``: records of type X keyed by their external-id value."""
    obj = state.sobject(req.params["obj"]).name
    field = req.params["field"]
    records, all_or_none = _records(req)
    opts = WriteOptions(auto_assign=options(req).auto_assign)

    def prepare(raw: Any) -> Prepared:
        if state_obj(state, _rec_type(raw)) != obj:
            raise RecordError("INVALID_TYPE", f"every record must be of type {obj}")
        value = next((v for k, v in raw.items() if k.lower() == field.lower()), None)
        if value in (None, ""):
            raise RecordError("MISSING_ARGUMENT", f"{field} not specified", [field])
        return state.writer.prepare_upsert(obj, field, str(value), raw, opts)

    return _run(state, req, records, all_or_none, prepare)


def collection_delete(state: SfState, req: Request) -> Response:
    """``DELETE composite/sobjects?ids=a,b&allOrNone=false``."""
    ids = [i for i in (req.arg("ids") or "").split(",") if i]
    if not ids or len(ids) > MAX_COLLECTION:
        raise sf_error(400, "EXCEEDED_ID_LIMIT" if ids else "MISSING_ARGUMENT", "between 1 and 200 ids are required")
    all_or_none = (req.arg("allOrNone") or "false").lower() == "true"
    prefixes = {t.schema.id_prefix: name for name, t in state.org.tables.items()}

    def prepare(rid: str) -> Prepared:
        obj = prefixes.get(rid[:3])
        if obj is None:
            raise RecordError("INVALID_ID_FIELD", f"invalid record id: {rid}", [])
        try:
            return state.writer.prepare_delete(obj, rid)
        except RecordError as err:
            err.message = f"{err.message}: {rid}"
            raise

    return _run(state, req, ids, all_or_none, prepare)


def collection_retrieve(state: SfState, req: Request) -> Response:
    """``GET composite/sobjects/X?ids=&fields=`` (or POST with ``{ids, fields}``): records or null, in order."""
    schema = state.sobject(req.params["obj"])
    if req.method == "POST":
        body = _object_body(req)
        ids, names = list(body.get("ids") or []), list(body.get("fields") or [])
    else:
        ids = [i for i in (req.arg("ids") or "").split(",") if i]
        names = [n for n in (req.arg("fields") or "").split(",") if n]
    if not ids or not names or len(ids) > 2000:
        raise sf_error(400, "MISSING_ARGUMENT", "ids (at most 2000) and fields are required")
    fields = []
    for name in names:
        fdef = schema.lookup(name)
        if fdef is None:
            raise sf_error(400, "INVALID_FIELD", f"No such column '{name}' on entity '{schema.name}'")
        fields.append(fdef.name)
    out = []
    for rid in ids:
        rec = state.org.get(schema.name, rid)
        out.append(None if rec is None else render_record(schema, rec, req.params.get("v", "59.0"), fields))
    return sf_json(200, out)


def state_obj(state: SfState, name: str) -> str:
    """The canonical object name, or a per-record INVALID_TYPE."""
    for obj in state.org.tables:
        if obj.lower() == name.lower():
            return obj
    raise RecordError("INVALID_TYPE", f"sObject type '{name}' is not supported.")
