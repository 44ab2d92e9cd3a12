"""The CRM search request (``POST /crm/v3/objects/{type}/search``) as a predicate and a sort over records.

Follows https://developers.hubspot.com/docs/api-reference/2026-03/crm/search-the-crm (legacy v3 body):
``filterGroups`` are ORed, the filters inside a group ANDed; at most 5 groups, 10 filters a group, 25 in
all (the limits since Aug 2024); operators EQ NEQ LT LTE GT GTE BETWEEN IN NOT_IN HAS_PROPERTY
NOT_HAS_PROPERTY CONTAINS_TOKEN NOT_CONTAINS_TOKEN; date values are epoch milliseconds (ISO strings are
accepted too); text compares case-insensitively; ``limit`` ≤ 200 (default 10); ``after`` is a numeric offset
and paging at or past 10,000 is refused with a 400. Unknown properties and operators are 400s.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from crmsync.sandbox.hubspot_wire import fail
from crmsync.sandbox.org import Org, Table
from crmsync.sandbox.schema import FieldDef, ObjectSchema, parse_datetime

MAX_GROUPS, MAX_PER_GROUP, MAX_FILTERS = 5, 10, 25
MAX_LIMIT, MAX_RESULTS, DEFAULT_LIMIT = 200, 10_000, 10
OPERATORS = frozenset(
    {"EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY",
     "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}
)  # fmt: skip
_WORDS = re.compile(r"[^0-9a-z]+")
_TOKEN_SPLIT = re.compile(r"[\s,;:()\[\]<>\"'/]+")

Row = Mapping[str, Any]
Predicate = Callable[[Row], bool]
R = TypeVar("R", bound=Row)
SCAN_CHUNK = 5000


class RowView(Mapping[str, Any]):
    """A read-only view of one stored record that reads fields on demand (a search over 100,000 contacts
    then never builds 100,000 dicts). Only valid while its table is not being rewritten: scan under the lock."""

    __slots__ = ("_table", "record_id")

    def __init__(self, table: Table, record_id: str) -> None:
        self._table = table
        self.record_id = record_id

    def __getitem__(self, name: str) -> Any:
        return self._table.value(self.record_id, name)

    def get(self, name: str, default: Any = None) -> Any:
        value = self._table.value(self.record_id, name)
        return default if value is None else value

    def __iter__(self) -> Iterator[str]:
        return iter(self._table.columns)

    def __len__(self) -> int:
        return len(self._table.columns)


def scan(org: Org, obj: str, predicate: Predicate) -> list[RowView]:
    """Views of the live records of ``obj`` that satisfy ``predicate``, in id order, scanned in locked chunks."""
    table = org.tables[obj]
    ids = org.ids(obj)
    out: list[RowView] = []
    for start in range(0, len(ids), SCAN_CHUNK):
        with org.lock:
            out += [
                view for view in (RowView(table, rid) for rid in ids[start : start + SCAN_CHUNK]) if predicate(view)
            ]
    return out


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """A validated search body."""

    predicate: Predicate
    sort_keys: tuple[tuple[str, bool], ...]  # (property, descending)
    properties: tuple[str, ...]
    limit: int
    offset: int


def parse_search(body: Any, schema: ObjectSchema) -> SearchRequest:
    """Validate a search body and compile it; raises HttpError 400 VALIDATION_ERROR as HubSpot would."""
    if body is None:
        body = {}
    if not isinstance(body, Mapping):
        raise fail(400, "VALIDATION_ERROR", "Invalid input JSON: the search body must be an object")
    groups = body.get("filterGroups") or []
    total = sum(len(g.get("filters") or []) for g in groups if isinstance(g, Mapping))
    if len(groups) > MAX_GROUPS or total > MAX_FILTERS:
        raise fail(
            400, "VALIDATION_ERROR", f"Search supports at most {MAX_GROUPS} filterGroups and {MAX_FILTERS} filters"
        )
    compiled = [_group(g, schema) for g in groups]
    query = body.get("query")
    text_match = _text_query(str(query), schema) if query else None

    predicate = _any_of(compiled) if compiled else None
    if text_match is not None:
        predicate = text_match if predicate is None else _all_of([predicate, text_match])

    limit = _int(body.get("limit"), DEFAULT_LIMIT, "limit")
    if not 0 < limit <= MAX_LIMIT:
        raise fail(400, "VALIDATION_ERROR", f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    offset = _int(body.get("after"), 0, "after")
    if offset >= MAX_RESULTS:
        raise fail(
            400,
            "VALIDATION_ERROR",
            f"Search results are limited to {MAX_RESULTS} per query; 'after' must be below {MAX_RESULTS}",
        )
    props = tuple(str(p) for p in body.get("properties") or ())
    return SearchRequest(predicate or _everything, _sorts(body.get("sorts") or [], schema), props, limit, offset)


def _int(raw: Any, default: int, name: str) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise fail(400, "VALIDATION_ERROR", f"'{name}' must be an integer") from None


def _field(schema: ObjectSchema, name: Any) -> FieldDef:
    fdef = schema.fields.get(str(name))
    if fdef is None or fdef.hidden:
        raise fail(400, "VALIDATION_ERROR", f'Property "{name}" does not exist on {schema.name}', errors=[
            {"message": f'Property "{name}" does not exist', "code": "PROPERTY_DOESNT_EXIST", "in": "propertyName"}
        ])  # fmt: skip
    return fdef


def _group(group: Any, schema: ObjectSchema) -> Predicate:
    filters = group.get("filters") if isinstance(group, Mapping) else None
    if not isinstance(filters, list) or len(filters) > MAX_PER_GROUP:
        raise fail(400, "VALIDATION_ERROR", f"Each filterGroup needs a list of at most {MAX_PER_GROUP} filters")
    return _all_of([_filter(f, schema) for f in filters])


def _everything(rec: Row) -> bool:
    return True


def _all_of(tests: list[Predicate]) -> Predicate:
    """AND of ``tests`` (the single test itself when there is one: searches scan 100,000 records)."""
    if len(tests) == 1:
        return tests[0]

    def predicate(rec: Row) -> bool:
        return all(test(rec) for test in tests)

    return predicate


def _any_of(tests: list[Predicate]) -> Predicate:
    """OR of ``tests`` (the single test itself when there is one)."""
    if len(tests) == 1:
        return tests[0]

    def predicate(rec: Row) -> bool:
        return any(test(rec) for test in tests)

    return predicate


def _filter(spec: Any, schema: ObjectSchema) -> Predicate:
    if not isinstance(spec, Mapping):
        raise fail(400, "VALIDATION_ERROR", "A filter must be an object")
    op = str(spec.get("operator", "EQ"))
    if op not in OPERATORS:
        raise fail(
            400, "VALIDATION_ERROR", f"Unknown filter operator {op}; expected one of {', '.join(sorted(OPERATORS))}"
        )
    fdef = _field(schema, spec.get("propertyName"))
    name = fdef.name
    if op in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        want = op == "HAS_PROPERTY"
        return lambda rec: (rec.get(name) not in (None, "")) == want
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        return _token_filter(name, str(spec.get("value", "")), negate=op == "NOT_CONTAINS_TOKEN")
    if op in ("IN", "NOT_IN"):
        values = {_coerce(fdef, v) for v in spec.get("values") or []}
        if op == "IN":
            return lambda rec: _key(fdef, rec.get(name)) in values
        return lambda rec: _key(fdef, rec.get(name)) not in values
    low = _coerce(fdef, spec.get("value"))
    if op == "BETWEEN":
        high = _coerce(fdef, spec.get("highValue"))
        return _compare(fdef, name, lambda v: low <= v <= high)
    compare: dict[str, Callable[[Any], bool]] = {
        "EQ": lambda v: v == low, "NEQ": lambda v: v != low, "LT": lambda v: v < low,
        "LTE": lambda v: v <= low, "GT": lambda v: v > low, "GTE": lambda v: v >= low,
    }  # fmt: skip
    return _compare(fdef, name, compare[op], null_result=op == "NEQ")


def _compare(fdef: FieldDef, name: str, test: Callable[[Any], bool], *, null_result: bool = False) -> Predicate:
    def predicate(rec: Row) -> bool:
        value = _key(fdef, rec.get(name))
        if value is None:
            return null_result
        try:
            return test(value)
        except TypeError:
            return False

    return predicate


def _coerce(fdef: FieldDef, raw: Any) -> Any:
    """A filter value in the comparable domain of the property (400 when it does not fit)."""
    if raw is None:
        raise fail(400, "VALIDATION_ERROR", f"A filter on {fdef.name} needs a value")
    text = str(raw)
    try:
        if fdef.type in ("datetime", "date"):
            if text.lstrip("-").isdigit():
                return int(text)
            return _epoch_ms(parse_datetime(text))
        if fdef.type == "number":
            return float(text)
        if fdef.type == "bool":
            return text.lower() == "true"
    except ValueError:
        raise fail(400, "VALIDATION_ERROR", f"'{text}' is not a valid value for {fdef.name} ({fdef.type})") from None
    return text.casefold()


def _key(fdef: FieldDef, value: Any) -> Any:
    """A stored value in the comparable domain (epoch ms for times, float for numbers, casefolded text)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        return _epoch_ms(value)
    if isinstance(value, date):
        return _epoch_ms(datetime(value.year, value.month, value.day, tzinfo=UTC))
    if isinstance(value, int | float):
        return float(value)
    if fdef.type == "number":
        try:
            return float(value)
        except ValueError:
            return None
    return str(value).casefold()


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _tokens(value: Any) -> list[str]:
    text = str(value).casefold()
    return [t for t in _TOKEN_SPLIT.split(text) if t] + [text]


def _token_filter(name: str, token: str, *, negate: bool) -> Predicate:
    wanted = token.casefold()

    def predicate(rec: Row) -> bool:
        value = rec.get(name)
        if value in (None, ""):
            return negate
        tokens = _tokens(value)
        hit = any(fnmatch.fnmatchcase(t, wanted) for t in tokens) if "*" in wanted else wanted in tokens
        return hit != negate

    return predicate


def _text_query(query: str, schema: ObjectSchema) -> Predicate:
    """``query``: some word of a text property (split at any non-alphanumeric, so ``globex`` finds
    ``ann@globex.example``) starts with the query, case-insensitively."""
    wanted = query.casefold()
    names = [f.name for f in schema.fields.values() if f.type == "string" and not f.hidden]

    def predicate(rec: Row) -> bool:
        for name in names:
            value = rec.get(name)
            if not value:
                continue
            text = str(value).casefold()
            if text.startswith(wanted) or any(word.startswith(wanted) for word in _WORDS.split(text)):
                return True
        return False

    return predicate


def _sorts(raw: Sequence[Any], schema: ObjectSchema) -> tuple[tuple[str, bool], ...]:
    """Sort rules as (property, descending): ``{propertyName, direction}`` objects or ``"-name"`` strings."""
    out: list[tuple[str, bool]] = []
    for item in raw:
        if isinstance(item, Mapping):
            name, desc = item.get("propertyName"), str(item.get("direction", "ASCENDING")).upper() == "DESCENDING"
        else:
            text = str(item)
            name, desc = text.lstrip("-"), text.startswith("-")
        out.append((_field(schema, name).name, desc))
    return tuple(out)


def sort_records(records: list[R], sort_keys: Sequence[tuple[str, bool]], schema: ObjectSchema) -> None:
    """Sort in place by the rules (nulls last), then by numeric id, as a stable keyset for paging."""
    records.sort(key=lambda r: int(r["hs_object_id"]))
    for name, desc in reversed(sort_keys):
        fdef = schema.fields[name]
        present = [r for r in records if _key(fdef, r.get(name)) is not None]
        missing = [r for r in records if _key(fdef, r.get(name)) is None]
        present.sort(key=_sort_key(fdef, name), reverse=desc)
        records[:] = present + missing


def _sort_key(fdef: FieldDef, name: str) -> Callable[[Row], Any]:
    return lambda rec: _key(fdef, rec.get(name))
