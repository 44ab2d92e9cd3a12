"""Why a lead fails a condition, in words an admin reads in the CRM ("score 42 < 60"). Pure.

:func:`explainer` walks a policy condition once and returns a function of a lead's fields that gives the
failing parts: for ``any``, every option (they all failed); for ``all``, the parts that failed; for ``not``,
the inner condition that held. Field names are shown as the policy wrote them (the logical name).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from crmsync.policy.conditions import (
    AllCondition,
    AnyCondition,
    Condition,
    FieldCondition,
    Fields,
    NotCondition,
    compile_condition,
)

Explainer = Callable[[Fields], str]

_NEGATED = {
    "gte": "<",
    "gt": "<=",
    "lte": ">",
    "lt": ">=",
    "eq": "!=",
    "ne": "=",
    "in": "not in",
    "not_in": "in",
    "contains": "does not contain",
    "matches": "does not match",
}


def explainer(condition: Condition | None, mapping: Mapping[str, str]) -> Explainer:
    """A function giving the reasons ``fields`` fail ``condition`` ("" when they satisfy it)."""
    if condition is None:
        return lambda _fields: ""
    if isinstance(condition, FieldCondition):
        return _field(condition, mapping)
    if isinstance(condition, AnyCondition | AllCondition):
        parts = tuple(
            (compile_condition(c, mapping), explainer(c, mapping))
            for c in (condition.any if isinstance(condition, AnyCondition) else condition.all)
        )
        is_any = isinstance(condition, AnyCondition)

        def combined(fields: Fields) -> str:
            failed = [why for test, why in parts if not test(fields)]
            if is_any and len(failed) < len(parts):
                return ""
            return (" and " if is_any else "; ").join(why(fields) for why in failed)

        return combined
    assert isinstance(condition, NotCondition)
    inner = compile_condition(condition.not_, mapping)
    return lambda fields: f"not ({inner.description})" if inner(fields) else ""


def _field(condition: FieldCondition, mapping: Mapping[str, str]) -> Explainer:
    name = condition.field
    crm = mapping.get(name, name)
    tests = [
        (op, operand, compile_condition(FieldCondition.model_validate({"field": name, op: operand}), mapping))
        for op, operand in condition.operators().items()
    ]

    def why(fields: Fields) -> str:
        value = fields.get(crm)
        if value is None or (isinstance(value, str) and not value.strip()):
            return "" if condition.exists is False else f"{name} missing"
        failed = [f"{name} {_show(value)} {_words(op, operand)}" for op, operand, test in tests if not test(fields)]
        return " and ".join(failed)

    return why


def _words(op: str, operand: object) -> str:
    if op == "exists":
        return "is set" if not operand else "is missing"
    if isinstance(operand, tuple | list):
        return f"{_NEGATED.get(op, op)} [" + ", ".join(str(o) for o in operand) + "]"
    return f"{_NEGATED.get(op, op)} {_show(operand)}"


def _show(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return repr(value)
        return str(int(number)) if number.is_integer() else value
    return str(value)
