"""HubSpot CRM v3 wire shapes used by :mod:`crmsync.sandbox.hubspot`: objects, batch envelopes and error bodies.

Shapes follow HubSpot's documentation (the legacy v3 reference pages, and the error-handling guide
https://developers.hubspot.com/docs/api-reference/error-handling) and the models of hubspot-api-client 12,
so the client with ``client_side_validation=True`` accepts every answer: objects always carry ``id``,
``properties`` (every value a string or null), ``createdAt``, ``updatedAt`` and ``archived``; batch answers
``status``, ``results``, ``startedAt``, ``completedAt``; errors ``status``, ``message``, ``correlationId``,
``category`` (and, inside a batch, ``context``, ``links``, ``errors`` as the StandardError model requires).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from crmsync.sandbox.org import Record
from crmsync.sandbox.schema import ObjectSchema, hs_wire
from crmsync.sandbox.server import HttpError, Request, Response, json_response

DEFAULT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "contacts": ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
}
"""What search and reads return when no ``properties`` are asked for (contacts per the search guide)."""
ENGAGEMENT_DEFAULT = ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")
OBJECT_LABEL = {
    "contacts": "CONTACT", "emails": "EMAIL", "calls": "CALL", "meetings": "MEETING", "notes": "NOTE", "tasks": "TASK",
}  # fmt: skip

_counter = itertools.count(1)
_counter_lock = threading.Lock()


def correlation_id() -> str:
    """A fresh, deterministic-per-process correlation id in UUID form (HubSpot sends one on every error)."""
    with _counter_lock:
        n = next(_counter)
    return str(uuid.UUID(bytes=hashlib.blake2b(f"hs-{n}".encode(), digest_size=16).digest()))


def iso(moment: datetime | None) -> str | None:
    """HubSpot's timestamp format: UTC, milliseconds, ``Z``."""
    return hs_wire(moment) if moment is not None else None


def created_field(obj: str) -> str:
    """The creation-time property of an object type."""
    return "createdate" if obj == "contacts" else "hs_createdate"


def modified_field(obj: str) -> str:
    """The property incremental syncs filter on: ``lastmodifieddate`` for contacts, else ``hs_lastmodifieddate``."""
    return "lastmodifieddate" if obj == "contacts" else "hs_lastmodifieddate"


def wanted_properties(obj: str, schema: ObjectSchema, asked: Sequence[str] | None) -> list[str]:
    """The property names to return: the asked ones that exist (unknown names are ignored, as HubSpot does),
    or the object's defaults."""
    if not asked:
        return list(DEFAULT_PROPERTIES.get(obj, ENGAGEMENT_DEFAULT))
    out: list[str] = []
    for name in asked:
        for part in name.split(","):
            fdef = schema.fields.get(part.strip())
            if fdef is not None and not fdef.hidden and fdef.name not in out:
                out.append(fdef.name)
    return out


def public_object(obj: str, rec: Record, properties: Iterable[str], *, trace: str | None = None) -> dict[str, Any]:
    """A SimplePublicObject: id, properties (strings or null), createdAt, updatedAt, archived(+At)."""
    archived_at = rec.get("archivedAt")
    out: dict[str, Any] = {
        "id": str(rec["hs_object_id"]),
        "properties": {name: hs_wire(rec.get(name)) for name in properties},
        "createdAt": iso(rec.get(created_field(obj))),
        "updatedAt": iso(rec.get(modified_field(obj)) or rec.get(created_field(obj))),
        "archived": archived_at is not None,
    }
    if archived_at is not None:
        out["archivedAt"] = iso(archived_at)
    if trace is not None:
        out["objectWriteTraceId"] = trace
    return out


def error_body(status: int, category: str, message: str, **extra: Any) -> dict[str, Any]:
    """The general error body: ``{status: "error", message, correlationId, category, ...}``."""
    del status  # the HTTP status travels on the response line, the body says "error"
    return {"status": "error", "message": message, "correlationId": correlation_id(), "category": category, **extra}


def error(status: int, category: str, message: str, **extra: Any) -> Response:
    """An error answer with the general body."""
    return json_response(status, error_body(status, category, message, **extra))


def fail(status: int, category: str, message: str, **extra: Any) -> HttpError:
    """An HttpError to raise from a handler."""
    return HttpError(error(status, category, message, **extra))


def invalid_properties(problems: Sequence[Mapping[str, Any]]) -> HttpError:
    """400 VALIDATION_ERROR in HubSpot's "Property values were not valid: [...]" form."""
    message = "Property values were not valid: " + json.dumps(list(problems), separators=(",", ":"))
    return fail(400, "VALIDATION_ERROR", message)


def batch_error(
    category: str, message: str, context: Mapping[str, Sequence[str]], *, sub_category: str | None = None
) -> dict[str, Any]:
    """One entry of a batch answer's ``errors`` (the StandardError model: every required key present)."""
    out: dict[str, Any] = {
        "status": "error",
        "category": category,
        "message": message,
        "context": {k: list(v) for k, v in context.items()},
        "errors": [],
        "links": {},
    }
    if sub_category is not None:
        out["subCategory"] = sub_category
    return out


def batch_response(
    ok_status: int,
    results: list[dict[str, Any]],
    errors: list[dict[str, Any]],
    started: datetime,
    completed: datetime,
) -> Response:
    """``ok_status`` with ``{status: COMPLETE, results, startedAt, completedAt}``, or 207 adding
    ``numErrors`` and ``errors`` when some inputs failed."""
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "requestedAt": iso(started),
        "startedAt": iso(started),
        "completedAt": iso(completed),
    }
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
        return json_response(207, body)
    return json_response(ok_status, body)


def paging(after: str | None) -> dict[str, Any]:
    """The ``paging`` member of a forward-paged collection (empty when this is the last page)."""
    return {"paging": {"next": {"after": after, "link": f"?after={after}"}}} if after is not None else {}


def request_json(req: Request) -> Any:
    """The request body as JSON; 400 VALIDATION_ERROR when it is not JSON."""
    try:
        return req.json()
    except ValueError:
        raise fail(400, "VALIDATION_ERROR", "Invalid input JSON on line 1: the body is not JSON") from None


def as_batch_error(refused: HttpError, context: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """A 4xx that a single write would have answered, as one entry of a batch answer's ``errors``."""
    body = json.loads(refused.response.body)
    return batch_error(str(body.get("category", "VALIDATION_ERROR")), str(body.get("message", "")), context)


def int_arg(req: Request, name: str, default: int) -> int:
    """An integer query parameter; 400 VALIDATION_ERROR when it is not one."""
    raw = req.arg(name)
    try:
        return int(raw) if raw else default
    except ValueError:
        raise fail(400, "VALIDATION_ERROR", f"'{name}' must be an integer, got '{raw}'") from None
