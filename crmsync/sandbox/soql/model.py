"""The parsed form of a SOQL query, and the error every stage of the SOQL subset raises.

All nodes are frozen; ``pos`` is the 0-based offset of the node in the query text, used for error messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal as TypingLiteral

ErrorCode = TypingLiteral[
    "MALFORMED_QUERY", "INVALID_FIELD", "INVALID_TYPE", "NUMBER_OUTSIDE_VALID_RANGE", "INVALID_QUERY_FILTER_OPERATOR"
]


class SoqlError(Exception):
    """A query the sandbox refuses, with the Salesforce ``errorCode`` and a message in Salesforce's layout.

    ``message`` reads like Salesforce's: the offending query line, a caret under the position, ``ERROR at
    Row:r:Column:c`` and what was found versus expected. ``str(err)`` is the message, so a server can answer
    ``400 [{"message": str(err), "errorCode": err.error_code}]``.
    """

    def __init__(self, text: str, pos: int, detail: str, error_code: ErrorCode = "MALFORMED_QUERY") -> None:
        self.error_code: ErrorCode = error_code
        self.pos = pos
        self.detail = detail
        self.row, self.column = _row_column(text, pos)
        line = text.splitlines()[self.row - 1] if text.strip() else ""
        self.message = f"\n{line}\n{' ' * (self.column - 1)}^\nERROR at Row:{self.row}:Column:{self.column}\n{detail}"
        super().__init__(self.message)


def _row_column(text: str, pos: int) -> tuple[int, int]:
    """1-based row and column of offset ``pos`` in ``text``."""
    before = text[:pos]
    row = before.count("\n") + 1
    column = pos - (before.rfind("\n") + 1) + 1
    return row, column


@dataclass(frozen=True, slots=True)
class FieldRef:
    """A field path as written: ``("Email",)`` or ``("Owner", "Type")``."""

    path: tuple[str, ...]
    pos: int

    @property
    def text(self) -> str:
        """The path joined with dots, as written in the query."""
        return ".".join(self.path)


@dataclass(frozen=True, slots=True)
class DateLiteral:
    """A relative date literal such as ``TODAY`` or ``LAST_N_DAYS:30``; resolved against ``now`` at execution."""

    name: str
    n: int | None


LiteralValue = str | int | float | bool | date | datetime | DateLiteral | None
LiteralKind = TypingLiteral["string", "number", "boolean", "null", "date", "datetime", "date_literal"]


@dataclass(frozen=True, slots=True)
class Literal:
    """A literal value with its kind (strings keep their raw text for LIKE patterns)."""

    value: LiteralValue
    kind: LiteralKind
    pos: int
    raw: str = ""


@dataclass(frozen=True, slots=True)
class Comparison:
    """``field op value``; for IN / NOT IN ``values`` holds the list, for LIKE ``value`` is the pattern."""

    field: FieldRef
    op: str
    value: Literal | None
    values: tuple[Literal, ...] = ()


@dataclass(frozen=True, slots=True)
class BoolOp:
    """AND / OR over two or more conditions."""

    op: TypingLiteral["AND", "OR"]
    parts: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """NOT condition."""

    part: Condition


Condition = Comparison | BoolOp | Not


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One ORDER BY key. Salesforce sorts nulls first unless NULLS LAST is given."""

    field: FieldRef
    descending: bool
    nulls_last: bool


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed ``SELECT ... FROM ...`` in the supported subset.

    ``count`` is true for ``SELECT COUNT() FROM ...`` (then ``fields`` is empty).
    """

    text: str
    sobject: str
    sobject_pos: int
    fields: tuple[FieldRef, ...]
    count: bool
    where: Condition | None
    order_by: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None
