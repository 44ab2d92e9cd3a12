"""Salesforce write semantics for the sandbox: validation, defaults, assignment rule, two-phase apply.

Every write is first *prepared* (checked against the schema and the org's current state, values parsed,
defaults and derived fields filled in) and then *applied*. Collections with ``allOrNone`` prepare every
record before applying any, under the org lock, so nothing needs rolling back. A refusal is a
:class:`RecordError` carrying the documented ``statusCode``/``errorCode``, message and fields.

What a real org would do and the sandbox does too:

- unknown fields → ``INVALID_FIELD``; read-only ones → ``INVALID_FIELD_FOR_INSERT_UPDATE``; bad picklist
  values → ``INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST``; wrong types → ``INVALID_TYPE_ON_FIELD_IN_RECORD``;
  missing required fields → ``REQUIRED_FIELD_MISSING``; too long → ``STRING_TOO_LONG``;
- ``OwnerId`` must be an active User (or, for a Lead, a Queue) → ``INVALID_CROSS_REFERENCE_KEY`` /
  ``INACTIVE_OWNER_OR_USER``; ``WhoId`` a live Lead; a Lead ``WhoId`` forbids ``WhatId``
  (``FIELD_INTEGRITY_EXCEPTION``); converted leads are read-only (``CANNOT_UPDATE_CONVERTED_LEAD``);
  deleted records → ``ENTITY_IS_DELETED``; unique external ids → ``DUPLICATE_VALUE``;
- a validation rule: closing a lead as ``Closed - Not Converted`` needs ``Disposition_Reason__c``
  (``FIELD_CUSTOM_VALIDATION_EXCEPTION``);
- the lead assignment rule (round robin over :class:`AssignmentRule` owners) runs on every Lead create and
  update unless ``Sforce-Auto-Assign: FALSE`` was sent, overwriting the OwnerId the caller set;
- a Task/Event on a Lead moves the lead's ``LastActivityDate`` as a system change (SystemModstamp only).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from crmsync.sandbox.org import Org
from crmsync.sandbox.schema import FieldDef, parse_value

Kind = Literal["create", "update", "delete"]
ROLLED_BACK = (
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using AllOrNone header",
)
CLOSED_LOST = "Closed - Not Converted"
_DEFAULTS: dict[str, dict[str, Any]] = {
    "Lead": {"Status": "Open - Not Contacted", "IsConverted": False},
    "Task": {"Status": "Not Started", "Priority": "Normal", "TaskSubtype": "Task"},
    "Event": {"EventSubtype": "Event", "IsAllDayEvent": False},
    "User": {"IsActive": True, "UserType": "Standard"},
}


class RecordError(Exception):
    """A write Salesforce refuses: ``code`` (statusCode/errorCode), ``message``, ``fields``, HTTP ``status``."""

    def __init__(self, code: str, message: str, fields: Sequence[str] = (), status: int = 400) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.fields = list(fields)
        self.status = status

    def as_item(self, *, key: str = "errorCode") -> dict[str, Any]:
        """The error as one item of Salesforce's error array (``statusCode`` inside collections)."""
        return {"message": self.message, key: self.code, "fields": self.fields}


class AssignmentRule:
    """The org's active lead assignment rule: round robin over ``owner_ids`` (empty: the rule does nothing)."""

    def __init__(self, owner_ids: Sequence[str] = ()) -> None:
        self.owner_ids = list(owner_ids)
        self.fired = 0
        self._lock = threading.Lock()

    def pick(self) -> str | None:
        """The next owner, or None when the rule has no owners."""
        with self._lock:
            if not self.owner_ids:
                return None
            owner = self.owner_ids[self.fired % len(self.owner_ids)]
            self.fired += 1
            return owner


@dataclass
class Prepared:
    """A checked write, ready to apply: what, on which record, with which parsed values."""

    obj: str
    kind: Kind
    record_id: str | None
    values: dict[str, Any] = field(default_factory=dict)
    created: bool = False


@dataclass(frozen=True)
class WriteOptions:
    """Per-request headers that change writes: ``Sforce-Auto-Assign`` and ``If-Unmodified-Since``."""

    auto_assign: bool = True
    unmodified_since: datetime | None = None


class SalesforceWriter:
    """Prepares and applies writes to a Salesforce :class:`Org` (hold ``org.lock`` across prepare+apply)."""

    def __init__(self, org: Org, rule: AssignmentRule, running_user: str) -> None:
        self.org = org
        self.rule = rule
        self.running_user = running_user

    # -- prepare ------------------------------------------------------------------------------------------
    def prepare_create(self, obj: str, payload: Mapping[str, Any], opts: WriteOptions) -> Prepared:
        """Check a create of ``obj`` with ``payload`` (``attributes`` ignored, ``Id`` refused)."""
        if any(k.lower() == "id" for k in payload):
            raise RecordError("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
        values = {**_DEFAULTS.get(obj, {}), **self._parse(obj, payload, creating=True)}
        if "OwnerId" in self.org.schema(obj).fields:
            values.setdefault("OwnerId", self.running_user)
        if obj == "Lead" and opts.auto_assign:
            values["OwnerId"] = self.rule.pick() or values["OwnerId"]
        missing = [f.name for f in self.org.schema(obj).fields.values() if _required(f) and values.get(f.name) is None]
        if missing:
            raise RecordError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing)
        self._check(obj, None, values, values)
        return Prepared(obj, "create", None, values, created=True)

    def prepare_update(self, obj: str, record_id: str, payload: Mapping[str, Any], opts: WriteOptions) -> Prepared:
        """Check an update of record ``record_id`` (the payload's ``Id``/``attributes`` are ignored)."""
        current = self._live(obj, record_id)
        if obj == "Lead" and current.get("IsConverted"):
            raise RecordError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", [])
        if opts.unmodified_since is not None:
            modified = current["LastModifiedDate"].replace(microsecond=0)
            if modified > opts.unmodified_since:
                raise RecordError("PRECONDITION_FAILED", "The requested entity has been modified.", [], 412)
        values = self._parse(obj, {k: v for k, v in payload.items() if k.lower() != "id"}, creating=False)
        nulled = [n for n, v in values.items() if v is None and _required(self.org.schema(obj).fields[n])]
        if nulled:
            raise RecordError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(nulled)}]", nulled)
        if obj == "Lead" and opts.auto_assign:
            values["OwnerId"] = self.rule.pick() or values.get("OwnerId", current["OwnerId"])
        self._check(obj, record_id, values, {**current, **values})
        return Prepared(obj, "update", record_id, values)

    def prepare_delete(self, obj: str, record_id: str) -> Prepared:
        """Check a delete of a live record."""
        self._live(obj, record_id)
        return Prepared(obj, "delete", record_id)

    def prepare_upsert(
        self, obj: str, ext_field: str, value: str, payload: Mapping[str, Any], opts: WriteOptions
    ) -> Prepared:
        """Check an upsert keyed on external-id field ``ext_field`` = ``value``: update if one live record has
        it, create otherwise; ``MULTIPLE_CHOICES`` (300) when several do."""
        fdef = self.org.schema(obj).lookup(ext_field)
        if fdef is None or not (fdef.external_id or fdef.name == "Id"):
            raise RecordError(
                "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {ext_field}"
            )
        body = {k: v for k, v in payload.items() if k.lower() != fdef.name.lower()}
        if fdef.name == "Id":
            return self.prepare_update(obj, value, body, opts)
        hits = self.org.find(obj, fdef.name, value)
        if len(hits) > 1:
            raise RecordError("MULTIPLE_CHOICES", f"more than one record found for external id field: {hits}", [], 300)
        if hits:
            prepared = self.prepare_update(obj, hits[0], body, opts)
        else:
            prepared = self.prepare_create(obj, {**body, fdef.name: value}, opts)
        return prepared

    # -- apply --------------------------------------------------------------------------------------------
    def apply(self, prepared: Prepared, now: datetime) -> str:
        """Apply a prepared write at ``now``; return the record id."""
        obj = prepared.obj
        if prepared.kind == "delete":
            assert prepared.record_id is not None
            self.org.delete(obj, prepared.record_id, now=now)
            return prepared.record_id
        if prepared.kind == "create":
            record_id = str(self.org.create(obj, _derived(obj, prepared.values), now=now)["Id"])
        else:
            assert prepared.record_id is not None
            record_id = prepared.record_id
            current = self.org.get(obj, record_id) or {}
            self.org.update(obj, record_id, _derived(obj, prepared.values, current), now=now)
        who = prepared.values.get("WhoId")
        if obj in ("Task", "Event") and isinstance(who, str) and who.startswith("00Q"):
            self.org.update("Lead", who, {"LastActivityDate": now.date()}, now=now, system=True)
        return record_id

    # -- checks -------------------------------------------------------------------------------------------
    def _live(self, obj: str, record_id: str) -> dict[str, Any]:
        current = self.org.get(obj, record_id, include_deleted=True)
        if current is None:
            raise RecordError("NOT_FOUND", "The requested resource does not exist", [], 404)
        if current.get("IsDeleted"):
            raise RecordError("ENTITY_IS_DELETED", "entity is deleted", [], 404)
        return current

    def _parse(self, obj: str, payload: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
        schema = self.org.schema(obj)
        out: dict[str, Any] = {}
        for key, raw in payload.items():
            if key == "attributes":
                continue
            fdef = schema.lookup(key)
            if fdef is None:
                raise RecordError("INVALID_FIELD", f"No such column '{key}' on sobject of type {obj}", [key])
            if not (fdef.createable if creating else fdef.updateable) and not fdef.external_id:
                raise RecordError(
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {fdef.name}. Please check the security settings of this "
                    "field and verify that it is read/write for your profile or permission set.",
                    [fdef.name],
                )
            out[fdef.name] = _value(fdef, raw)
        return out

    def _check(self, obj: str, record_id: str | None, values: Mapping[str, Any], merged: Mapping[str, Any]) -> None:
        if "OwnerId" in values:
            self._check_owner(obj, values["OwnerId"])
        if values.get("WhoId") is not None:
            who = values["WhoId"]
            if not who.startswith("00Q") or self.org.get("Lead", who) is None:
                raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ["WhoId"])
        if str(merged.get("WhoId") or "").startswith("00Q") and merged.get("WhatId"):
            raise RecordError("FIELD_INTEGRITY_EXCEPTION", "Related To ID: id value of incorrect type", ["WhatId"])
        if obj == "Lead" and merged.get("Status") == CLOSED_LOST and not merged.get("Disposition_Reason__c"):
            raise RecordError(
                "FIELD_CUSTOM_VALIDATION_EXCEPTION", "A disposition reason is required to close a lead.", []
            )
        for fdef in self.org.schema(obj).fields.values():
            if fdef.unique and values.get(fdef.name) is not None:
                clash = [rid for rid in self.org.find(obj, fdef.name, values[fdef.name]) if rid != record_id]
                if clash:
                    raise RecordError(
                        "DUPLICATE_VALUE",
                        f"duplicate value found: {fdef.name} duplicates value on record with id: {clash[0]}",
                        [fdef.name],
                    )

    def _check_owner(self, obj: str, owner_id: Any) -> None:
        owner_id = str(owner_id or "")
        if owner_id.startswith("005"):
            user = self.org.get("User", owner_id)
            if user is None:
                raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ["OwnerId"])
            if not user.get("IsActive"):
                raise RecordError("INACTIVE_OWNER_OR_USER", "operation performed with inactive user", ["OwnerId"])
            return
        group = self.org.get("Group", owner_id) if owner_id.startswith("00G") else None
        if obj != "Lead" or group is None or group.get("Type") != "Queue":
            raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ["OwnerId"])


def _required(fdef: FieldDef) -> bool:
    return not fdef.nillable and fdef.createable and fdef.type != "boolean"


def _value(fdef: FieldDef, raw: Any) -> Any:
    if fdef.type in ("datetime", "date") and isinstance(raw, int | float):
        raise RecordError(
            "INVALID_TYPE_ON_FIELD_IN_RECORD", f"{fdef.label}: value not of required type: {raw}", [fdef.name]
        )
    try:
        return parse_value(fdef, raw)
    except ValueError as bad:
        if "picklist" in str(bad):
            code, msg = (
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"{fdef.label}: bad value for restricted picklist field: {raw}",
            )
        elif "too large" in str(bad):
            code, msg = "STRING_TOO_LONG", f"{fdef.label}: data value too large: {raw} (max length={fdef.length})"
        else:
            code, msg = "INVALID_TYPE_ON_FIELD_IN_RECORD", f"{fdef.label}: value not of required type: {raw}"
        raise RecordError(code, msg, [fdef.name]) from bad


def _derived(obj: str, values: Mapping[str, Any], current: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Fields a real org computes: Task ``IsClosed``; Event end time, duration and activity date."""
    out = dict(values)
    merged = {**(current or {}), **values}
    if obj == "Task" and "Status" in values:
        out["IsClosed"] = values["Status"] in ("Completed", "Deferred")
    if obj == "Event" and merged.get("StartDateTime") is not None:
        start: datetime = merged["StartDateTime"]
        if "EndDateTime" not in values and ("DurationInMinutes" in values or "StartDateTime" in values):
            out["EndDateTime"] = start + timedelta(minutes=int(merged.get("DurationInMinutes") or 0))
        end: datetime = out.get("EndDateTime", merged.get("EndDateTime")) or start
        out["DurationInMinutes"] = int((end - start).total_seconds() // 60)
        out["ActivityDateTime"] = start
        out["ActivityDate"] = start.date()
    if obj == "User" and ("FirstName" in values or "LastName" in values):
        out["Name"] = " ".join(p for p in (merged.get("FirstName"), merged.get("LastName")) if p)
    return out
