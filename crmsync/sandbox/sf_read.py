"""Salesforce REST reads for the sandbox: query/queryAll with cursors, rows, getUpdated/getDeleted, describe.

Shapes follow the REST API Developer Guide (see crm-api-facts Part A): query pages
``{totalSize, done, records, nextRecordsUrl?}`` of at most 2,000 rows (``Sforce-Query-Options: batchSize``,
200–2,000); cursors expire after 15 minutes idle and at most 10 stay open (the 11th releases the oldest,
whose locator then answers ``INVALID_QUERY_LOCATOR``); getUpdated ``{ids, latestDateCovered}`` within 30
days, getDeleted ``{deletedRecords, earliestDateAvailable, latestDateCovered}`` within 15 days, seconds cut.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from crmsync.sandbox import soql
from crmsync.sandbox.org import Org, Record, salesforce_id
from crmsync.sandbox.schema import ObjectSchema, parse_datetime, sf_wire
from crmsync.sandbox.server import HttpError, Request, Response, json_response
from crmsync.sandbox.sf_write import AssignmentRule, RecordError, SalesforceWriter
from crmsync.sandbox.soql import model as soql_model
from crmsync.sandbox.stats import Stats

MAX_BATCH = 2000
MIN_BATCH = 200
CURSOR_IDLE_S = 15 * 60
MAX_CURSORS = 10


def sf_json(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    """A Salesforce JSON answer (datetimes as ``...000+0000``)."""
    return json_response(status, payload, headers, default=sf_wire)


def sf_error(status: int, code: str, message: str, fields: list[str] | None = None) -> HttpError:
    """The documented single-resource error: ``[{"message", "errorCode", "fields"?}]`` with ``status``."""
    item: dict[str, Any] = {"message": message, "errorCode": code}
    if fields:
        item["fields"] = fields
    return HttpError(sf_json(status, [item]))


def record_error(err: RecordError) -> HttpError:
    """A :class:`RecordError` as a single-resource error answer."""
    return sf_error(err.status, err.code, err.message, err.fields)


@dataclass
class Cursor:
    rows: list[Mapping[str, object]]
    result: soql.Result
    batch: int
    used: float


class CursorStore:
    """Open query locators: at most :data:`MAX_CURSORS`, each expiring :data:`CURSOR_IDLE_S` after last use."""

    def __init__(self) -> None:
        self._open: OrderedDict[str, Cursor] = OrderedDict()
        self._lock = threading.Lock()
        self._next = 1

    def open(self, result: soql.Result, batch: int) -> str:
        """Keep ``result`` for paging; return its locator id (releasing the oldest beyond the cap)."""
        with self._lock:
            locator = salesforce_id("01g", self._next)
            self._next += 1
            self._open[locator] = Cursor(result.rows, result, batch, time.monotonic())
            while len(self._open) > MAX_CURSORS:
                self._open.popitem(last=False)
            return locator

    def get(self, locator: str) -> Cursor | None:
        """The live cursor, refreshed; None when released or expired."""
        with self._lock:
            cursor = self._open.get(locator)
            if cursor is None or time.monotonic() - cursor.used > CURSOR_IDLE_S:
                self._open.pop(locator, None)
                return None
            cursor.used = time.monotonic()
            self._open.move_to_end(locator)
            return cursor

    def close(self, locator: str) -> None:
        with self._lock:
            self._open.pop(locator, None)


@dataclass
class SfState:
    """What the Salesforce handlers share: the org, the writer, cursors, accounting and the quota."""

    org: Org
    writer: SalesforceWriter
    stats: Stats
    daily_quota: int
    cursors: CursorStore = field(default_factory=CursorStore)

    @property
    def rule(self) -> AssignmentRule:
        return self.writer.rule

    def sobject(self, name: str) -> ObjectSchema:
        """The schema of ``name`` (case-insensitive); 404 NOT_FOUND when the org has no such object."""
        for obj, table in self.org.tables.items():
            if obj.lower() == name.lower():
                return table.schema
        raise sf_error(404, "NOT_FOUND", "The requested resource does not exist")


def version(req: Request) -> str:
    return req.params.get("v", "59.0")


def render_record(schema: ObjectSchema, rec: Record, ver: str, fields: list[str] | None = None) -> dict[str, Any]:
    """A record in the sObject Rows shape: ``attributes`` then the (selected) fields."""
    out: dict[str, Any] = {
        "attributes": {"type": schema.name, "url": f"/services/data/v{ver}/sobjects/{schema.name}/{rec['Id']}"}
    }
    names = fields if fields is not None else list(schema.fields)
    for name in names:
        out[name] = sf_wire(rec.get(name))
    return out


# -- query ------------------------------------------------------------------------------------------------
def _resolver(org: Org) -> soql.Resolver:
    cache: dict[str, soql.Related | None] = {}
    kinds = {"005": ("User", "User"), "00G": ("Group", None), "00Q": ("Lead", "Lead")}

    def resolve(relationship: str, row: Mapping[str, object]) -> soql.Related | None:
        ref = row.get(f"{relationship}Id")
        if not isinstance(ref, str) or not ref:
            return None
        if ref not in cache:
            sobject, type_name = kinds.get(ref[:3], ("", None))
            rec = org.get(sobject, ref, include_deleted=True) if sobject else None
            if rec is not None and type_name:
                rec["Type"] = type_name
            cache[ref] = None if rec is None else soql.Related(sobject, rec, polymorphic=True)
        return cache[ref]

    return resolve


def _conjuncts(cond: soql_model.Condition) -> list[soql_model.Condition]:
    if isinstance(cond, soql_model.BoolOp) and cond.op == "AND":
        return [c for part in cond.parts for c in _conjuncts(part)]
    return [cond]


def candidates(
    org: Org, schema: ObjectSchema, where: soql_model.Condition | None, *, include_deleted: bool
) -> list[Record]:
    """The rows a query's WHERE can match, narrowed by an index when a top-level AND term allows it.

    ``Id``/reference ``=``/``IN`` use the primary key or an equality index, datetime bounds on a
    range-indexed field (SystemModstamp) a range scan; anything else means every row. The evaluator still
    applies the whole WHERE, so this only has to return a superset of the matches.
    """
    if where is None:
        return org.rows(schema.name, include_deleted=include_deleted)
    low: Any = None
    high: Any = None
    ranged: str | None = None
    for term in _conjuncts(where):
        if not isinstance(term, soql_model.Comparison) or len(term.field.path) != 1:
            continue
        fdef = schema.lookup(term.field.path[0])
        if fdef is None:
            continue
        literals = [term.value] if term.op == "=" else list(term.values) if term.op == "IN" else []
        keys = [lit.value for lit in literals if lit is not None and lit.kind == "string"]
        if literals and len(keys) == len(literals) and fdef.type in ("id", "reference"):
            return _by_keys(org, schema, fdef.name, [str(k) for k in keys], include_deleted)
        value = term.value.value if term.value is not None and term.value.kind == "datetime" else None
        if fdef.name in schema.ranged and isinstance(value, datetime) and (ranged in (None, fdef.name)):
            ranged = fdef.name
            if term.op in (">", ">="):
                low = value if low is None else max(low, value)
            elif term.op in ("<", "<="):
                high = value if high is None else min(high, value)
    if ranged is None:
        return org.rows(schema.name, include_deleted=include_deleted)
    ids = org.scan(schema.name, ranged, low, high, include_deleted=include_deleted)
    return [rec for rid in ids if (rec := org.get(schema.name, rid, include_deleted=True)) is not None]


def _by_keys(org: Org, schema: ObjectSchema, name: str, keys: list[str], include_deleted: bool) -> list[Record]:
    if name == "Id":
        ids = list(dict.fromkeys(keys))
    elif name in schema.indexed:
        ids = sorted({rid for key in keys for rid in org.find(schema.name, name, key, include_deleted=True)})
    else:
        return org.rows(schema.name, include_deleted=include_deleted)
    found = (org.get(schema.name, rid, include_deleted=include_deleted) for rid in ids)
    return [rec for rec in found if rec is not None]


def _batch_size(req: Request) -> int:
    options = req.header("Sforce-Query-Options") or ""
    for part in options.split(","):
        key, _, value = part.partition("=")
        if key.strip().lower() == "batchsize" and value.strip().isdigit():
            return max(MIN_BATCH, min(MAX_BATCH, int(value)))
    return MAX_BATCH


def query(state: SfState, req: Request, *, include_deleted: bool) -> Response:
    """``GET query/?q=`` and ``queryAll/?q=``: the first page, a cursor when more rows remain."""
    text = req.arg("q")
    if not text:
        raise sf_error(400, "MALFORMED_QUERY", "A query string has to be specified")
    try:
        parsed = soql.parse(text)
        try:
            schema = state.sobject(parsed.sobject)
        except HttpError:
            raise soql.invalid_type(parsed) from None
        rows = candidates(state.org, schema, parsed.where, include_deleted=include_deleted)
        types = {name: f.type for name, f in schema.fields.items()}
        result = soql.execute(
            parsed, rows, sobject=schema.name, now=req.now, fields=types,
            resolve=_resolver(state.org), api_version=version(req),
        )  # fmt: skip
    except soql.SoqlError as bad:
        raise sf_error(400, bad.error_code, bad.message) from bad
    if parsed.count:
        return sf_json(200, {"totalSize": result.total_size, "done": True, "records": []})
    batch = _batch_size(req)
    return _page(state, result, result.rows, 0, batch, None, version(req))


def _page(
    state: SfState,
    result: soql.Result,
    rows: list[Mapping[str, object]],
    start: int,
    batch: int,
    locator: str | None,
    ver: str,
) -> Response:
    end = start + batch
    body: dict[str, Any] = {"totalSize": len(rows), "done": end >= len(rows)}
    if end < len(rows):
        locator = locator or state.cursors.open(result, batch)
        body["nextRecordsUrl"] = f"/services/data/v{ver}/query/{locator}-{end}"
    elif locator:
        state.cursors.close(locator)
    body["records"] = [result.render(row) for row in rows[start:end]]
    return sf_json(200, body)


def query_more(state: SfState, req: Request) -> Response:
    """``GET query/<locator>-<offset>``: the next page of an open cursor."""
    cursor = state.cursors.get(req.params["locator"])
    if cursor is None:
        raise sf_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    start = int(req.params["offset"])
    return _page(state, cursor.result, cursor.rows, start, cursor.batch, req.params["locator"], version(req))


# -- rows -------------------------------------------------------------------------------------------------
def get_row(state: SfState, req: Request) -> Response:
    """``GET sobjects/X/id[?fields=a,b]``: one record; 404 NOT_FOUND / ENTITY_IS_DELETED."""
    schema = state.sobject(req.params["obj"])
    rec = state.org.get(schema.name, req.params["id"], include_deleted=True)
    if rec is None:
        raise sf_error(404, "NOT_FOUND", "The requested resource does not exist")
    if rec.get("IsDeleted"):
        raise sf_error(404, "ENTITY_IS_DELETED", "entity is deleted")
    return sf_json(200, render_record(schema, rec, version(req), _fields_arg(schema, req)))


def get_by_external_id(state: SfState, req: Request) -> Response:
    """``GET sobjects/X/Field/value``: the record whose external-id field has that value (300 when several)."""
    schema = state.sobject(req.params["obj"])
    fdef = schema.lookup(req.params["field"])
    if fdef is None or not fdef.external_id:
        raise sf_error(
            404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {req.params['field']}"
        )
    hits = state.org.find(schema.name, fdef.name, req.params["value"])
    if not hits:
        raise sf_error(404, "NOT_FOUND", "The requested resource does not exist")
    if len(hits) > 1:
        urls = [f"/services/data/v{version(req)}/sobjects/{schema.name}/{rid}" for rid in hits]
        raise HttpError(sf_json(300, urls))
    rec = state.org.get(schema.name, hits[0])
    assert rec is not None
    return sf_json(200, render_record(schema, rec, version(req), _fields_arg(schema, req)))


def _fields_arg(schema: ObjectSchema, req: Request) -> list[str] | None:
    raw = req.arg("fields")
    if not raw:
        return None
    names = []
    for name in (n.strip() for n in raw.split(",") if n.strip()):
        fdef = schema.lookup(name)
        if fdef is None:
            raise sf_error(400, "INVALID_FIELD", f"No such column '{name}' on entity '{schema.name}'")
        names.append(fdef.name)
    return names


# -- getUpdated / getDeleted ------------------------------------------------------------------------------
def _window(req: Request, days: int) -> tuple[datetime, datetime]:
    try:
        start = parse_datetime((req.arg("start") or "").replace(" ", "+")).replace(second=0, microsecond=0)
        end = parse_datetime((req.arg("end") or "").replace(" ", "+")).replace(second=0, microsecond=0)
    except ValueError as bad:
        raise sf_error(400, "INVALID_REPLICATION_DATE", "start and end must be valid dateTime values") from bad
    if start >= end:
        raise sf_error(400, "INVALID_REPLICATION_DATE", "startDate must chronologically precede endDate")
    if start < req.now - timedelta(days=days):
        raise sf_error(400, "INVALID_REPLICATION_DATE", f"startDate cannot be more than {days} days ago")
    return start, min(end, req.now.replace(second=0, microsecond=0))


def updated(state: SfState, req: Request) -> Response:
    """``GET sobjects/X/updated/?start=&end=``: ids changed (SystemModstamp) in the window."""
    schema = state.sobject(req.params["obj"])
    start, end = _window(req, 30)
    ids = [
        rid for rid in state.org.modified_between(schema.name, "SystemModstamp", start, end)
        if not state.org.is_deleted(schema.name, rid)
    ]  # fmt: skip
    if len(ids) > 600_000:
        raise sf_error(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 600000 records")
    return sf_json(200, {"ids": ids, "latestDateCovered": end})


def deleted(state: SfState, req: Request) -> Response:
    """``GET sobjects/X/deleted/?start=&end=``: records deleted in the window, with their deletion time."""
    schema = state.sobject(req.params["obj"])
    start, end = _window(req, 15)
    gone = state.org.deleted_between(schema.name, start, end)
    earliest = min(
        (at for _, at in state.org.deleted_between(schema.name, start - timedelta(days=15), end)), default=start
    )
    return sf_json(
        200,
        {
            "deletedRecords": [{"id": rid, "deletedDate": at} for rid, at in gone],
            "earliestDateAvailable": earliest.replace(second=0, microsecond=0),
            "latestDateCovered": end,
        },
    )
