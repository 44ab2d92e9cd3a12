"""Turn pydantic validation errors into messages an admin can act on, each with the path of the value.

pydantic's error locations mix the file's keys with union branch names (``str``, a condition tag...). The
path of the file is recovered by walking the error location along the model's types: model fields, list
indexes and mapping keys are steps in the file; union branches are not. The same walk finds the keys a
section accepts, for "did you mean".
"""

from __future__ import annotations

import re
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from crmsync.policy.checks import suggest

Path = tuple[str | int, ...]
Described = tuple[Path, bool, str]
"""(path in the file, whether the problem is the key itself rather than its value, message)."""

KINDS = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true/false",
    "bool_parsing": "true/false",
    "dict_type": "a mapping (key: value)",
    "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
    "list_type": "a list",
    "tuple_type": "a list",
    "date_type": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "datetime_type": "a date and time (YYYY-MM-DDTHH:MM)",
    "datetime_parsing": "a date and time (YYYY-MM-DDTHH:MM)",
    "datetime_from_date_parsing": "a date and time (YYYY-MM-DDTHH:MM)",
    "none_required": "nothing (null)",
}


def describe_errors(error: ValidationError, data: object, root: type[BaseModel] | None = None) -> list[Described]:
    """One message per faulty value of ``data`` (the file as plain data); union branch errors are merged."""
    if root is None:
        from crmsync.policy.model import Policy

        root = Policy
    merged: dict[tuple[Path, bool, object], list[ErrorDetails]] = {}
    for detail in error.errors(include_url=False):
        path, at_key = _file_path(root, data, detail)
        missing = detail["loc"][-1] if detail["type"] == "missing" and detail["loc"] else None
        merged.setdefault((path, at_key, missing), []).append(detail)
    return [(path, at_key, _message(root, details)) for (path, at_key, _), details in merged.items()]


def _file_path(root: type[BaseModel], data: object, detail: ErrorDetails) -> tuple[Path, bool]:
    """The path in the file of the value an error is about: location steps the data really has."""
    path: list[str | int] = []
    tp: Any = root
    node = data
    loc = detail["loc"]
    for index, elem in enumerate(loc):
        if index == len(loc) - 1 and detail["type"] == "missing":
            break
        step = _step(tp, elem)
        if step is None:
            continue
        tp, in_file = step
        if not in_file:
            continue
        in_mapping = isinstance(node, dict) and elem in node
        in_list = isinstance(node, list) and isinstance(elem, int) and 0 <= elem < len(node)
        if not (in_mapping or in_list):
            break
        node = node[elem]  # type: ignore[index]  # checked just above
        path.append(elem)
    return tuple(path), detail["type"] == "extra_forbidden"


def _strip(tp: Any) -> Any:
    """Drop ``Annotated`` wrappers and a ``None`` branch."""
    while True:
        if get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
            continue
        if _is_union(tp):
            rest = [a for a in get_args(tp) if a is not type(None)]
            if len(rest) == 1:
                tp = rest[0]
                continue
        return tp


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def _step(tp: Any, elem: str | int) -> tuple[Any, bool] | None:
    """Follow one location element: (the type found, whether the element is a step in the file)."""
    tp = _strip(tp)
    if _is_union(tp):
        for branch in get_args(tp):
            tags = [m.tag for m in getattr(branch, "__metadata__", ()) if hasattr(m, "tag")]
            if elem in tags or getattr(_strip(branch), "__name__", None) == elem:
                return branch, False
        return None
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        for name, info in tp.model_fields.items():
            if (info.alias or name) == elem:
                return _annotation(info.annotation, info.metadata), True
        return Any, True
    origin = get_origin(tp)
    if origin in (tuple, list) and isinstance(elem, int):
        return get_args(tp)[0], True
    if origin is dict:
        return (get_args(tp)[0] if elem == "[key]" else get_args(tp)[1]), elem != "[key]"
    return (Any, True) if isinstance(elem, int) or tp is Any else None


def _annotation(annotation: Any, metadata: list[Any]) -> Any:
    return Annotated[annotation, *metadata] if metadata else annotation


def _model_at(root: type[BaseModel], loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    tp: Any = root
    for elem in loc:
        step = _step(tp, elem)
        if step is None:
            continue
        tp = step[0]
    tp = _strip(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _keys_of(model: type[BaseModel] | None) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()] if model else []


def _message(root: type[BaseModel], details: list[ErrorDetails]) -> str:
    first = details[0]
    kind = first["type"]
    if kind == "extra_forbidden":
        key = str(first["loc"][-1])
        known = _keys_of(_model_at(root, first["loc"][:-1]))
        hint = suggest(key, known) or (f"; known keys: {', '.join(known)}" if known else "")
        return f"unknown key {key!r}{hint}"
    if kind == "missing":
        return f"missing required key {first['loc'][-1]!r}"
    if all(d["type"] in KINDS for d in details):
        wanted = list(dict.fromkeys(KINDS[d["type"]] for d in details))
        if "a number" in wanted and "a whole number" in wanted:
            wanted.remove("a whole number")
        return f"expected {_either(wanted)}, got {_shown(first['input'])}"
    return _specific(next(d for d in details if d["type"] not in KINDS))


def _specific(detail: ErrorDetails) -> str:
    kind, ctx = detail["type"], detail.get("ctx") or {}
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        choices = re.findall(r"'([^']*)'", expected)
        got = detail["input"]
        if not choices:
            return f"expected {expected}, got {_shown(got)}"
        hint = suggest(got, choices) if isinstance(got, str) else ""
        return f"expected one of {', '.join(choices)}, got {_shown(got)}{hint}"
    if kind == "value_error":
        return str(ctx.get("error", detail["msg"]))
    bounds = {"greater_than": "more than", "greater_than_equal": "at least", "less_than": "less than"}
    bounds |= {"less_than_equal": "at most"}
    if kind in bounds:
        limit = next(iter(ctx.values()), "")
        return f"must be {bounds[kind]} {limit}, got {_shown(detail['input'])}"
    if kind in ("too_short", "string_too_short"):
        return "must not be empty"
    return _lower_first(detail["msg"])


def _either(kinds: list[str]) -> str:
    return kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " or " + kinds[-1]


def _shown(value: object) -> str:
    """A short description of a value for messages: strings quoted, containers by kind."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
