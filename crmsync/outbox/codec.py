"""Actions to and from the outbox's JSON payload. Pure; total over the :data:`~crmsync.domain.Action` union.

The payload is plain JSON (strings, numbers, null): datetimes as ISO 8601 with offset, enums by value, the
lead as ``{"connection", "lead_id"}``. ``kind`` names the action class and is stored in its own column.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any, get_args, get_type_hints

from crmsync.domain import (
    Action,
    Assign,
    CreateTask,
    Flag,
    Hide,
    LeadRef,
    LogActivity,
    Reassign,
    Recycle,
    Reopen,
    SetDisposition,
)

ACTION_TYPES: dict[str, type[Any]] = {
    cls.__name__.lower(): cls
    for cls in (Assign, Reassign, Hide, Recycle, SetDisposition, Reopen, Flag, CreateTask, LogActivity)
}


def kind_of(action: Action) -> str:
    """The name an action is stored under (``assign``, ``reassign``, ``logactivity``...)."""
    return type(action).__name__.lower()


def encode(action: Action) -> dict[str, Any]:
    """A JSON-ready dict holding every field of ``action``."""
    out: dict[str, Any] = {}
    for item in dataclasses.fields(action):
        out[item.name] = _encode_value(getattr(action, item.name))
    return out


def decode(kind: str, payload: Mapping[str, Any]) -> Action:
    """The action stored as ``kind``. Raises ValueError for an unknown kind or a bad field."""
    cls = ACTION_TYPES.get(kind)
    if cls is None:
        raise ValueError(f"unknown action kind {kind!r}")
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    for item in dataclasses.fields(cls):
        if item.name not in payload:
            if item.default is dataclasses.MISSING:
                raise ValueError(f"{kind}: missing field {item.name!r}")
            continue
        values[item.name] = _decode_value(hints[item.name], payload[item.name], f"{kind}.{item.name}")
    action: Action = cls(**values)
    return action


def _encode_value(value: object) -> object:
    if isinstance(value, LeadRef):
        return {"connection": value.connection, "lead_id": value.lead_id}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def _decode_value(hint: Any, raw: object, where: str) -> object:
    if raw is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        hint = next(arg for arg in get_args(hint) if arg is not type(None))
    if hint is LeadRef:
        if not isinstance(raw, Mapping):
            raise ValueError(f"{where}: expected a lead reference")
        return LeadRef(str(raw["connection"]), str(raw["lead_id"]))
    if hint is datetime:
        parsed = datetime.fromisoformat(str(raw))
        if parsed.tzinfo is None:
            raise ValueError(f"{where}: datetime without a timezone")
        return parsed
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(raw)
    if hint in (str, int, float, bool) and not isinstance(raw, hint):
        raise ValueError(f"{where}: expected {hint.__name__}")
    return raw
