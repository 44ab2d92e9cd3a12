"""The declarative condition language of policy files, and its compiler. Pure.

A condition is one of::

    {field: score, gte: 60}                 a field test; several operators on one field must all hold
    {all: [cond, ...]}  {any: [cond, ...]}  {not: cond}

Field operators: ``eq``, ``ne``, ``in``, ``not_in``, ``gt``, ``gte``, ``lt``, ``lte``, ``contains``, ``exists``,
``matches``. Field names go through the policy's field mapping (logical name → CRM field), falling back to
the name as written. Numbers that arrive as strings (HubSpot sends every property as a string) compare as
numbers. A missing field (absent, None or empty string) makes every operator false, except ``exists: false``.
Regular expressions are compiled when the policy is loaded, so a bad pattern is a load error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

Scalar = str | int | float | bool
Fields = Mapping[str, object]
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
OPERATORS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "contains", "exists", "matches")


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_by_alias=True, validate_by_name=False)


class FieldCondition(_Strict):
    """A test on one lead field; every operator given must hold."""

    field: str = Field(min_length=1, description="Logical name from `fields`, or a CRM field name.")
    eq: Scalar | None = None
    ne: Scalar | None = None
    in_: tuple[Scalar, ...] | None = Field(default=None, alias="in")
    not_in: tuple[Scalar, ...] | None = None
    gt: float | str | None = None
    gte: float | str | None = None
    lt: float | str | None = None
    lte: float | str | None = None
    contains: Scalar | None = Field(default=None, description="Substring (case-insensitive) or list element.")
    exists: bool | None = None
    matches: str | None = Field(default=None, description="Python regular expression, searched anywhere.")

    @field_validator("matches")
    @classmethod
    def _regex_compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except (re.error, RecursionError, OverflowError) as bad:
                raise ValueError(f"invalid regular expression {pattern!r}: {bad}") from None
        return pattern

    @field_validator("gt", "gte", "lt", "lte", mode="before")
    @classmethod
    def _orderable(cls, bound: object) -> object:
        if isinstance(bound, datetime | date):
            return bound.isoformat()
        if isinstance(bound, str) and _number(bound) is None and not _ISO_DATE.match(bound):
            raise ValueError(f"compare with a number or a date (YYYY-MM-DD), got {bound!r}")
        return bound

    @model_validator(mode="after")
    def _has_operator(self) -> FieldCondition:
        if not self.operators():
            raise ValueError(f"give an operator for field {self.field!r}: one of {', '.join(OPERATORS)}")
        return self

    def operators(self) -> dict[str, Any]:
        """The operators given, by their YAML name."""
        values = {op: getattr(self, "in_" if op == "in" else op) for op in OPERATORS}
        return {op: value for op, value in values.items() if value is not None}


class AllCondition(_Strict):
    """True when every listed condition is true (an empty list is true)."""

    all: tuple[Condition, ...]


class AnyCondition(_Strict):
    """True when at least one listed condition is true (an empty list is false)."""

    any: tuple[Condition, ...]


class NotCondition(_Strict):
    """True when the inner condition is false."""

    not_: Condition = Field(alias="not")


CONDITION_KEYS: dict[str, tuple[str, type[BaseModel]]] = {
    "field": ("field test", FieldCondition),
    "all": ("all of", AllCondition),
    "any": ("any of", AnyCondition),
    "not": ("not of", NotCondition),
}
"""The key that makes a mapping each kind of condition → (union tag, model). Tags differ from keys so that an
error location (which names the tag) can be told apart from the keys of the file."""


def _condition_tag(value: object) -> str | None:
    if isinstance(value, dict):
        return next((tag for key, (tag, _) in CONDITION_KEYS.items() if key in value), None)
    return next((tag for tag, model in CONDITION_KEYS.values() if isinstance(value, model)), None)


Condition = Annotated[
    Union[  # noqa: UP007 - a discriminated union of forward references reads better spelt out
        Annotated[FieldCondition, Tag("field test")],
        Annotated[AllCondition, Tag("all of")],
        Annotated[AnyCondition, Tag("any of")],
        Annotated[NotCondition, Tag("not of")],
    ],
    Discriminator(
        _condition_tag,
        custom_error_type="condition",
        custom_error_message="a condition is a mapping with one of: field, all, any, not",
    ),
]

for _model in (AllCondition, AnyCondition, NotCondition):
    _model.model_rebuild()


# -- compiling ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Predicate:
    """A compiled condition: call it with a lead's fields; ``description`` says what it tests, for ``explain``."""

    test: Callable[[Fields], bool]
    description: str

    def __call__(self, fields: Fields) -> bool:
        return self.test(fields)

    def __str__(self) -> str:
        return self.description


ALWAYS = Predicate(lambda _fields: True, "always")


def compile_condition(condition: Condition | None, mapping: Mapping[str, str] | None = None) -> Predicate:
    """Compile ``condition`` once into a :class:`Predicate`; ``None`` compiles to one that is always true.

    ``mapping`` translates logical field names to CRM field names; names not in it are used as written.
    """
    if condition is None:
        return ALWAYS
    names = mapping or {}
    if isinstance(condition, FieldCondition):
        return _compile_field(condition, names.get(condition.field, condition.field))
    if isinstance(condition, AllCondition):
        parts = tuple(compile_condition(c, names) for c in condition.all)
        return Predicate(lambda f: all(p(f) for p in parts), _join("all of", parts))
    if isinstance(condition, AnyCondition):
        options = tuple(compile_condition(c, names) for c in condition.any)
        return Predicate(lambda f: any(p(f) for p in options), _join("any of", options))
    inner = compile_condition(condition.not_, names)
    return Predicate(lambda f: not inner(f), f"not ({inner.description})")


def _join(word: str, parts: tuple[Predicate, ...]) -> str:
    return f"{word} [{'; '.join(p.description for p in parts)}]"


def _compile_field(condition: FieldCondition, name: str) -> Predicate:
    tests: list[Callable[[object], bool]] = []
    words: list[str] = []
    for op, operand in condition.operators().items():
        tests.append(_operator(op, operand))
        words.append(f"{name} {op} {operand!r}")
    wants_missing = condition.exists is False

    def test(fields: Fields) -> bool:
        value = fields.get(name)
        if _missing(value):
            return wants_missing and len(tests) == 1
        return all(t(value) for t in tests)

    return Predicate(test, " and ".join(words))


def _operator(op: str, operand: Any) -> Callable[[object], bool]:
    if op == "eq":
        return lambda v: _equal(v, operand)
    if op == "ne":
        return lambda v: not _equal(v, operand)
    if op == "in":
        return lambda v: any(_equal(v, o) for o in operand)
    if op == "not_in":
        return lambda v: not any(_equal(v, o) for o in operand)
    if op in ("gt", "gte", "lt", "lte"):
        return _ordering(op, operand)
    if op == "contains":
        return lambda v: _contains(v, operand)
    if op == "exists":
        return lambda _v: bool(operand)
    pattern = re.compile(operand)
    return lambda v: pattern.search(str(v)) is not None


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number(value: object) -> float | None:
    """``value`` as a finite number when it is one or a string spelling one; booleans are not numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().replace(",", ""))
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _equal(value: object, operand: object) -> bool:
    if isinstance(operand, bool):
        if isinstance(value, str):
            return value.strip().lower() == str(operand).lower()
        return value is operand
    if isinstance(operand, int | float):
        number = _number(value)
        return number is not None and number == float(operand)
    return str(value) == operand if isinstance(value, str | int | float) else value == operand


def _ordering(op: str, operand: float | str) -> Callable[[object], bool]:
    compare: Callable[[Any, Any], bool] = {
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
    }[op]
    bound = _number(operand)
    if bound is not None:
        return lambda v: (n := _number(v)) is not None and compare(n, bound)
    text = str(operand)
    return lambda v: isinstance(v, str) and compare(v, text)


def _contains(value: object, operand: Scalar) -> bool:
    if isinstance(value, list | tuple | set | frozenset):
        return any(_equal(item, operand) for item in value)
    return str(operand).lower() in str(value).lower()
