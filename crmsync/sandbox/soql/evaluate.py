"""Evaluate a parsed query over in-memory rows: WHERE as a compiled predicate, ORDER BY, OFFSET, LIMIT.

Semantics follow SOQL rather than SQL: two-valued logic (``Status != 'X'`` keeps rows whose Status is null,
comparisons other than ``=``/``!=`` are false on null), case-insensitive text comparison and sorting, LIKE with
``%`` and ``_`` case-insensitive, relative date literals as ranges of whole UTC days around ``now``, and nulls
sorted first unless ``NULLS LAST``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from crmsync.sandbox.soql.fields import Getter, Related, Renderer, Resolver, Row, Schema
from crmsync.sandbox.soql.model import (
    BoolOp,
    Comparison,
    Condition,
    DateLiteral,
    Literal,
    Not,
    OrderItem,
    Query,
    SoqlError,
)

Predicate = Callable[[Row], bool]

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_TEXT_TYPES = frozenset({"id", "reference", "string", "picklist", "multipicklist", "email", "phone", "textarea", "url"})
_ID_TYPES = frozenset({"id", "reference"})
_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_NUMBER_TYPES = frozenset({"int", "double", "currency", "percent", "long"})
_ALLOWED = {
    "datetime": ({"datetime", "date_literal", "null"}, "dateTime", "should not be enclosed in quotes"),
    "date": ({"date", "date_literal", "null"}, "date", "should not be enclosed in quotes"),
    "boolean": ({"boolean", "null"}, "boolean", "should not be enclosed in quotes"),
}


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome of ``execute``: ``total_size`` (the COUNT() value for COUNT queries) and the matched rows
    in order; ``render`` turns a row into the Salesforce JSON record, ``records()`` renders them all."""

    total_size: int
    rows: list[Row]
    renderer: Renderer | None

    def render(self, row: Row) -> dict[str, object]:
        """One matched row as a Salesforce record (``attributes`` + selected fields)."""
        assert self.renderer is not None, "COUNT() queries have no records to render"
        return self.renderer.render(row)

    def records(self) -> list[dict[str, object]]:
        """Every matched row rendered (empty for COUNT())."""
        return [self.render(row) for row in self.rows] if self.renderer else []


def execute(
    query: Query,
    rows: Iterable[Row],
    *,
    sobject: str,
    now: datetime,
    fields: Mapping[str, str] | Collection[str] | None = None,
    resolve: Resolver | None = None,
    api_version: str = "59.0",
) -> Result:
    """Run ``query`` over ``rows`` (all rows of the FROM object, in a stable order).

    ``sobject`` is the object's canonical name. ``fields`` lists its fields (a mapping to describe types such
    as ``datetime``/``boolean``/``string`` turns on Salesforce's literal type checks); when given, unknown
    fields raise SoqlError INVALID_FIELD and names are canonicalised. ``resolve`` answers relationship paths.
    ``now`` anchors TODAY / LAST_N_DAYS:n. Raises SoqlError for invalid fields and mistyped literals.
    """
    schema = Schema.build(sobject, fields, resolve)
    renderer = None if query.count else Renderer(query, schema, api_version)
    predicate = compile_condition(query, schema, query.where, now) if query.where else None
    matched = [row for row in rows if predicate(row)] if predicate else list(rows)
    _sort(query, schema, matched, query.order_by)
    start = query.offset or 0
    end = None if query.limit is None else start + query.limit
    matched = matched[start:end]
    return Result(len(matched), [] if query.count else matched, renderer)


def compile_condition(query: Query, schema: Schema, cond: Condition, now: datetime) -> Predicate:
    """A predicate for ``cond``; field names and literal types are checked now, not per row."""
    if isinstance(cond, Not):
        inner = compile_condition(query, schema, cond.part, now)
        return lambda row: not inner(row)
    if isinstance(cond, BoolOp):
        parts = [compile_condition(query, schema, part, now) for part in cond.parts]
        if cond.op == "AND":
            return lambda row: all(part(row) for part in parts)
        return lambda row: any(part(row) for part in parts)
    return _comparison(query, schema, cond, now)


def _comparison(query: Query, schema: Schema, cond: Comparison, now: datetime) -> Predicate:
    getter = schema.getter(query, cond.field)
    literals = cond.values if cond.value is None else (cond.value,)
    field_type = ""
    if len(cond.field.path) == 1:
        field_type = schema.field_type(schema.canonical_field(query, cond.field, cond.field.path[0]))
        for literal in literals:
            _check_type(query, cond, field_type, literal)
    if cond.op == "LIKE":
        assert cond.value is not None
        return _like(getter, cond.value.raw)
    op = cond.op if cond.op not in ("IN", "NOT IN") else "="
    if field_type in _ID_TYPES and op in ("=", "!="):
        tests = [_id_test(query, op, literal) or _test(op, literal, now) for literal in literals]
    else:
        tests = [_test(op, literal, now) for literal in literals]
    negate = cond.op == "NOT IN"

    def predicate(row: Row) -> bool:
        value = getter(row)
        hit = any(test(value) for test in tests)
        return hit != negate

    return predicate


def _id_test(query: Query, op: str, literal: Literal) -> Callable[[object], bool] | None:
    """Id comparison as Salesforce does it: a 15-character id matches the 18-character form (case-sensitively),
    an 18-character one matches case-insensitively; anything else non-empty is INVALID_QUERY_FILTER_OPERATOR.
    None for literals that are not ids (null, empty string): the ordinary test applies."""
    if not isinstance(literal.value, str) or not literal.value:
        return None
    wanted = literal.value
    if not _ID.fullmatch(wanted):
        raise SoqlError(query.text, literal.pos, f"invalid ID field: {wanted}", "INVALID_QUERY_FILTER_OPERATOR")
    if len(wanted) == 15:

        def match(value: object) -> bool:
            return isinstance(value, str) and value[:15] == wanted

    else:
        folded = wanted.casefold()

        def match(value: object) -> bool:
            return isinstance(value, str) and value.casefold() == folded

    return match if op == "=" else (lambda value: not match(value))


def _check_type(query: Query, cond: Comparison, field_type: str, literal: Literal) -> None:
    """Salesforce's compile-time check that the literal's kind suits the field's type."""
    name = cond.field.text
    if field_type in _ALLOWED:
        kinds, type_name, hint = _ALLOWED[field_type]
        ok = literal.kind in kinds
    elif field_type in _NUMBER_TYPES:
        ok, type_name, hint = literal.kind in ("number", "null"), "double", "should not be enclosed in quotes"
    elif field_type in _TEXT_TYPES:
        ok, type_name, hint = literal.kind in ("string", "null"), "string", "should be enclosed in quotes"
    else:
        return
    if not ok:
        detail = f"value of filter criterion for field '{name}' must be of type {type_name} and {hint}"
        raise SoqlError(query.text, literal.pos, detail, "INVALID_FIELD")


def _test(op: str, literal: Literal, now: datetime) -> Callable[[object], bool]:
    """A test of one field value against one literal under ``op`` (=, !=, <, <=, >, >=)."""
    if literal.kind == "null":
        return (lambda v: v is None) if op == "=" else (lambda v: v is not None) if op == "!=" else (lambda v: False)
    if isinstance(literal.value, DateLiteral):
        return _range_test(op, *_date_range(literal.value, now))
    compare = _OPS[op]
    expected = _normalise(literal.value)
    coerce = _coercer(literal.kind)

    def test(value: object) -> bool:
        if value is None:
            return op == "!="
        try:
            return compare(coerce(value), expected)
        except TypeError:
            return op == "!="

    return test


def _coercer(kind: str) -> Callable[[object], object]:
    """How a row value is brought to the literal's domain before comparing."""
    if kind == "datetime":
        return _as_datetime
    if kind == "date":
        return _as_date
    return _normalise


def _normalise(value: object) -> object:
    """Text compares case-insensitively; everything else as is."""
    return value.casefold() if isinstance(value, str) else value


def _as_datetime(value: object) -> object:
    """A datetime from a datetime, a date (midnight UTC) or an ISO string; other values unchanged."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    if isinstance(value, str):
        try:
            return _as_datetime(datetime.fromisoformat(value))
        except ValueError:
            return value
    return value


def _as_date(value: object) -> object:
    """A date from a date, a datetime (its UTC day) or an ISO string; other values unchanged."""
    moment = _as_datetime(value) if isinstance(value, (datetime, str)) else value
    return moment.astimezone(UTC).date() if isinstance(moment, datetime) else moment


def _date_range(literal: DateLiteral, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) in UTC of a relative date literal, Salesforce's definitions with the day in UTC."""
    today = datetime.combine(now.astimezone(UTC).date(), time(), tzinfo=UTC)
    day = timedelta(days=1)
    n = literal.n or 0
    ranges = {
        "YESTERDAY": (today - day, today),
        "TODAY": (today, today + day),
        "TOMORROW": (today + day, today + 2 * day),
        "LAST_N_DAYS": (today - n * day, today + day),
        "NEXT_N_DAYS": (today + day, today + (n + 1) * day),
        "N_DAYS_AGO": (today - n * day, today - (n - 1) * day),
    }
    return ranges[literal.name]


def _range_test(op: str, start: datetime, end: datetime) -> Callable[[object], bool]:
    """Comparison of a value with a date range: '=' means inside, '<' before start, '>' at or after end."""
    checks: dict[str, Callable[[Any, Any, Any], bool]] = {
        "=": lambda v, s, e: s <= v < e,
        "!=": lambda v, s, e: not s <= v < e,
        "<": lambda v, s, e: v < s,
        "<=": lambda v, s, e: v < e,
        ">": lambda v, s, e: v >= e,
        ">=": lambda v, s, e: v >= s,
    }
    check = checks[op]

    def test(value: object) -> bool:
        if value is None:
            return op == "!="
        moment = _as_datetime(value)
        if isinstance(moment, datetime):
            return check(moment, start, end)
        return False

    return test


def _like(getter: Getter, raw: str) -> Predicate:
    """LIKE: ``%`` any run, ``_`` one character, ``\\%``/``\\_`` literal; case-insensitive, whole value."""
    body = raw[1:-1]
    parts: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            parts.append(re.escape({"n": "\n", "t": "\t", "r": "\r"}.get(nxt, nxt)))
            i += 2
            continue
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        i += 1
    pattern = re.compile("".join(parts), re.IGNORECASE | re.DOTALL)

    def predicate(row: Row) -> bool:
        value = getter(row)
        return isinstance(value, str) and pattern.fullmatch(value) is not None

    return predicate


def _sort(query: Query, schema: Schema, rows: list[Row], order: tuple[OrderItem, ...]) -> None:
    """Stable multi-key sort in place: one pass per key, last key first."""
    for item in reversed(order):
        getter = schema.getter(query, item.field)
        null_rank = 1 if item.nulls_last != item.descending else 0

        def key(row: Row, getter: Getter = getter, null_rank: int = null_rank) -> tuple[int, object]:
            value = getter(row)
            if value is None:
                return (null_rank, 0)
            return (1 - null_rank, _sort_value(value))

        rows.sort(key=key, reverse=item.descending)


def _sort_value(value: object) -> object:
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return value


__all__ = ["Related", "Resolver", "Result", "execute"]
