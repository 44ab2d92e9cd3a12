"""Turning HubSpot input ``properties`` into store values, with HubSpot's validation errors.

Every problem found in one input is reported at once in HubSpot's "Property values were not valid: [...]"
body (``PROPERTY_DOESNT_EXIST``, ``READ_ONLY_VALUE``, ``INVALID_OPTION``, ``INVALID_...``). An empty string
clears a value. ``hubspot_owner_id`` must name a live owner (its options are the portal's owners). Contact
emails are stored lower-cased and are unique (409 CONFLICT "Contact already exists. Existing ID: n").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmsync.sandbox.hubspot_wire import fail, invalid_properties
from crmsync.sandbox.org import Org
from crmsync.sandbox.schema import FieldDef, ObjectSchema, parse_value
from crmsync.sandbox.server import HttpError

_INVALID_CODE = {
    "number": "INVALID_FLOAT",
    "datetime": "INVALID_DATETIME",
    "date": "INVALID_DATE",
    "bool": "INVALID_BOOLEAN",
}


def _problem(name: str, code: str, message: str) -> dict[str, Any]:
    return {"isValid": False, "message": message, "error": code, "name": name, "localizedErrorMessage": message}


def convert_properties(org: Org, obj: str, raw: Any, *, creating: bool) -> dict[str, Any]:
    """Store values for input ``properties`` of ``obj``; HttpError 400 listing every invalid property."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise invalid_properties([_problem("properties", "INVALID_INPUT", "properties must be an object")])
    schema = org.schema(obj)
    values: dict[str, Any] = {}
    problems: list[dict[str, Any]] = []
    for name, value in raw.items():
        fdef = schema.fields.get(str(name))
        problem = _check(org, schema, fdef, str(name), value, creating=creating)
        if problem is not None:
            problems.append(problem)
            continue
        assert fdef is not None
        values[fdef.name] = _convert(fdef, value)
    if problems:
        raise invalid_properties(problems)
    if obj == "contacts" and isinstance(values.get("email"), str):
        values["email"] = values["email"].lower()
    return values


def _check(
    org: Org, schema: ObjectSchema, fdef: FieldDef | None, name: str, value: Any, *, creating: bool
) -> dict[str, Any] | None:
    """The problem with one property, or None."""
    if fdef is None or fdef.hidden:
        return _problem(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist')
    if not (fdef.createable if creating else fdef.updateable):
        return _problem(name, "READ_ONLY_VALUE", f"{name} is a read only property; its value cannot be set.")
    if value is not None and not isinstance(value, str | int | float | bool):
        return _problem(name, "INVALID_INPUT", f"{name} must be a string")
    if value in (None, ""):
        return None
    try:
        parse_value(fdef, _wire_text(fdef, value))
    except ValueError:
        if fdef.options:
            allowed = ", ".join(fdef.options)
            return _problem(name, "INVALID_OPTION", f"{value} was not one of the allowed options: [{allowed}]")
        return _problem(name, _INVALID_CODE.get(fdef.type, "INVALID_STRING"), f"{value} is not a valid {fdef.type}")
    if name == "hubspot_owner_id" and org.has("owners"):
        owner = org.get("owners", str(value))
        if owner is None:
            return _problem(name, "INVALID_OPTION", f"{value} was not one of the allowed options (the portal's owners)")
    return None


def _wire_text(fdef: FieldDef, value: Any) -> Any:
    """HubSpot takes every value as a string; JSON numbers and booleans sent instead are read as their text
    (``true``/``false``, ``42``) except where the property type parses them itself."""
    if isinstance(value, bool) and fdef.type not in ("bool", "boolean"):
        return "true" if value else "false"
    if isinstance(value, int | float) and not isinstance(value, bool) and fdef.type in ("string", "enumeration"):
        return str(value)
    return value


def _convert(fdef: FieldDef, value: Any) -> Any:
    if value is None or value == "":
        return None
    return parse_value(fdef, _wire_text(fdef, value))


def ensure_unique_email(org: Org, values: Mapping[str, Any], record_id: str | None) -> None:
    """409 CONFLICT when another live contact already has this email."""
    email = values.get("email")
    if not email:
        return
    for other in org.find("contacts", "email", email):
        if other != record_id:
            raise fail(409, "CONFLICT", f"Contact already exists. Existing ID: {other}")


def missing_required(obj: str, values: Mapping[str, Any]) -> HttpError | None:
    """Engagements need ``hs_timestamp`` (400 with HubSpot's REQUIRED_FIELD problem), else None."""
    if obj != "contacts" and values.get("hs_timestamp") is None:
        return invalid_properties([_problem("hs_timestamp", "REQUIRED_FIELD", "hs_timestamp is required")])
    return None
