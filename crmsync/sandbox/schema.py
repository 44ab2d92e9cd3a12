"""What fields each sandbox object has, their types and picklists, and how values cross the wire.

Salesforce objects use Salesforce field types (``id string email int double boolean datetime date picklist
reference textarea phone``); HubSpot objects use HubSpot property types (``string number datetime date
enumeration bool``) with a ``field_type`` (``text number date select booleancheckbox textarea``).
Schemas are mutable only through :meth:`ObjectSchema.add_field` (HubSpot ``POST /properties`` creates
custom properties at run time); :func:`salesforce_schemas` and :func:`hubspot_schemas` build fresh ones
per org. Values in the store are Python values; :func:`parse_value` turns wire values into them and
:func:`sf_wire` / :func:`hs_wire` turn them back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

SF_LEAD_STATUSES = ("Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted")
SF_LEAD_SOURCES = (
    "Demo Request", "Web", "Webinar", "Trade Show", "Partner Referral", "Content", "Phone Inquiry", "Other",
)  # fmt: skip
HS_LEAD_STATUSES = (
    "NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "ATTEMPTED_TO_CONTACT", "CONNECTED", "BAD_TIMING",
)  # fmt: skip
HS_LIFECYCLE_STAGES = (
    "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
    "evangelist", "other",
)  # fmt: skip
HS_EMPLOYEE_BUCKETS = ("1-5", "5-25", "25-50", "50-100", "100-500", "500-1000", "1000+")

HS_ASSOCIATION_TYPES: dict[tuple[str, str], int] = {
    ("notes", "contacts"): 202, ("contacts", "notes"): 201,
    ("calls", "contacts"): 194, ("contacts", "calls"): 193,
    ("emails", "contacts"): 198, ("contacts", "emails"): 197,
    ("meetings", "contacts"): 200, ("contacts", "meetings"): 199,
    ("tasks", "contacts"): 204, ("contacts", "tasks"): 203,
}  # fmt: skip
"""HUBSPOT_DEFINED association type ids by (from object, to object)."""

HS_ENGAGEMENTS = ("emails", "calls", "meetings", "notes", "tasks")


@dataclass(slots=True)
class FieldDef:
    """One field (Salesforce) or property (HubSpot).

    ``options`` are the picklist / enumeration values (empty: any value). ``reference_to`` and
    ``relationship`` describe a Salesforce lookup (``OwnerId`` → ``Owner`` over User and Group).
    ``hidden`` fields are kept by the store but not listed as properties (HubSpot ``archivedAt``).
    """

    name: str
    type: str
    label: str = ""
    custom: bool = False
    updateable: bool = True
    createable: bool = True
    nillable: bool = True
    options: tuple[str, ...] = ()
    reference_to: tuple[str, ...] = ()
    relationship: str | None = None
    external_id: bool = False
    unique: bool = False
    length: int = 0
    field_type: str = ""
    group: str = ""
    hidden: bool = False


@dataclass(slots=True)
class ObjectSchema:
    """One object type: its name, id scheme, ordered fields, the fields indexed for equality lookups
    (``indexed``) and the datetime fields indexed for range scans (``ranged``, e.g. SystemModstamp)."""

    name: str
    label: str
    fields: dict[str, FieldDef]
    id_prefix: str = ""
    id_start: int = 0
    indexed: tuple[str, ...] = ()
    ranged: tuple[str, ...] = ()
    custom_fields_created: list[str] = field(default_factory=list)

    def add_field(self, fdef: FieldDef) -> None:
        """Add a field at run time (HubSpot custom property). ValueError if the name exists."""
        if fdef.name in self.fields:
            raise ValueError(f"{self.name}.{fdef.name} exists")
        self.fields[fdef.name] = fdef
        self.custom_fields_created.append(fdef.name)

    def lookup(self, name: str) -> FieldDef | None:
        """The field named ``name`` (case-insensitively, as SOQL and the REST API match), or None."""
        found = self.fields.get(name)
        if found is not None:
            return found
        lowered = name.lower()
        return next((f for f in self.fields.values() if f.name.lower() == lowered), None)


def _f(name: str, ftype: str, **kw: Any) -> FieldDef:
    label = kw.pop("label", name.removesuffix("__c").replace("_", " "))
    return FieldDef(name=name, type=ftype, label=label, **kw)


def _ro(name: str, ftype: str, **kw: Any) -> FieldDef:
    return _f(name, ftype, updateable=False, createable=False, **kw)


def _sf_system(with_deleted: bool = True) -> list[FieldDef]:
    fields = [_ro("Id", "id", nillable=False, length=18)]
    if with_deleted:
        fields.append(_ro("IsDeleted", "boolean", nillable=False))
    return fields


def _sf_stamps() -> list[FieldDef]:
    return [_ro("CreatedDate", "datetime"), _ro("LastModifiedDate", "datetime"), _ro("SystemModstamp", "datetime")]


def _owner_ref(*targets: str) -> FieldDef:
    return _f("OwnerId", "reference", reference_to=targets, relationship="Owner", length=18)


def _who_what() -> list[FieldDef]:
    return [
        _f("WhoId", "reference", reference_to=("Lead", "Contact"), relationship="Who", length=18),
        _f("WhatId", "reference", reference_to=("Account", "Opportunity"), relationship="What", length=18),
    ]


def _schema(name: str, fields: list[FieldDef], **kw: Any) -> ObjectSchema:
    return ObjectSchema(name=name, label=kw.pop("label", name), fields={f.name: f for f in fields}, **kw)


def _sf_lead() -> list[FieldDef]:
    return [
        *_sf_system(),
        _f("FirstName", "string", length=40), _f("LastName", "string", nillable=False, length=80),
        _f("Email", "email", length=80), _f("Phone", "phone", length=40),
        _f("Company", "string", nillable=False, length=255), _f("NumberOfEmployees", "int"),
        _f("Title", "string", length=128), _f("LeadSource", "picklist", options=SF_LEAD_SOURCES),
        _f("Status", "picklist", options=SF_LEAD_STATUSES, nillable=False),
        _owner_ref("Group", "User"), _ro("IsConverted", "boolean"), _ro("ConvertedDate", "date"),
        _ro("LastActivityDate", "date"), *_sf_stamps(),
        _f("Lead_Score__c", "double", custom=True), _f("Disposition_Reason__c", "string", custom=True,
                                                         length=255),
        _f("Crmsync_Status__c", "string", custom=True, length=255), _f("Crmsync_SLA_Due__c", "datetime", custom=True),
        _f("Crmsync_Reassignments__c", "double", custom=True),
    ]  # fmt: skip


def _sf_task(ext: FieldDef) -> list[FieldDef]:
    return [
        *_sf_system(), *_who_what(), _owner_ref("User"), _f("Subject", "string", length=255),
        _f("Status", "picklist", options=("Not Started", "In Progress", "Completed", "Waiting on someone else",
                                          "Deferred"), nillable=False),
        _f("Priority", "picklist", options=("High", "Normal", "Low"), nillable=False),
        _f("ActivityDate", "date"), _f("TaskSubtype", "picklist", options=("Task", "Email", "ListEmail", "Cadence",
                                                                            "Call", "LinkedIn")),
        _f("Type", "picklist", options=("Call", "Email", "Meeting", "Other")), _f("Description", "textarea"),
        _f("CallDurationInSeconds", "int"), _f("CallType", "picklist", options=("Internal", "Inbound", "Outbound")),
        _f("CallDisposition", "string", length=255), _ro("IsClosed", "boolean"), *_sf_stamps(), ext,
    ]  # fmt: skip


def _sf_event(ext: FieldDef) -> list[FieldDef]:
    return [
        *_sf_system(), *_who_what(), _owner_ref("User"), _f("Subject", "string", length=255),
        _f("StartDateTime", "datetime"), _f("EndDateTime", "datetime"), _f("DurationInMinutes", "int"),
        _f("ActivityDateTime", "datetime"), _f("ActivityDate", "date"), _f("IsAllDayEvent", "boolean"),
        _f("Location", "string", length=255), _f("Description", "textarea"),
        _f("Type", "picklist", options=("Call", "Email", "Meeting", "Other")),
        _f("EventSubtype", "picklist", options=("Event",)), *_sf_stamps(), ext,
    ]  # fmt: skip


def _sf_user() -> list[FieldDef]:
    return [
        *_sf_system(with_deleted=False), _f("Username", "string", length=80), _f("Email", "email", length=128),
        _f("FirstName", "string", length=40), _f("LastName", "string", length=80), _ro("Name", "string"),
        _f("IsActive", "boolean"), _f("TimeZoneSidKey", "picklist"), _ro("UserType", "picklist"), *_sf_stamps(),
    ]  # fmt: skip


def _sf_group() -> list[FieldDef]:
    return [
        *_sf_system(with_deleted=False), _f("Name", "string", length=40), _f("DeveloperName", "string", length=80),
        _f("Type", "picklist", options=("Queue", "Regular", "Role")), _f("Email", "email"), *_sf_stamps(),
    ]  # fmt: skip


def _sf_lead_status() -> list[FieldDef]:
    return [
        *_sf_system(with_deleted=False), _f("ApiName", "string"), _f("MasterLabel", "string"),
        _f("IsConverted", "boolean"), _f("IsDefault", "boolean"), _f("SortOrder", "int"), *_sf_stamps(),
    ]  # fmt: skip


def salesforce_schemas() -> list[ObjectSchema]:
    """Fresh schemas of Lead, Task, Event, User, Group and LeadStatus, crmsync's custom fields included."""
    ext = _f("Crmsync_External_Id__c", "string", custom=True, external_id=True, unique=True, length=255)
    activity_index = ("WhoId", "OwnerId", "Crmsync_External_Id__c")
    stamp = ("SystemModstamp",)
    return [
        _schema("Lead", _sf_lead(), id_prefix="00Q", indexed=("OwnerId", "Email"), ranged=stamp),
        _schema("Task", _sf_task(ext), id_prefix="00T", indexed=activity_index, ranged=stamp),
        _schema("Event", _sf_event(ext), id_prefix="00U", indexed=activity_index, ranged=stamp),
        _schema("User", _sf_user(), id_prefix="005", indexed=("Email", "Username")),
        _schema("Group", _sf_group(), id_prefix="00G", indexed=("DeveloperName",)),
        _schema("LeadStatus", _sf_lead_status(), label="Lead Status Value", id_prefix="01J"),
    ]


_HS_FIELD_TYPE = {"string": "text", "number": "number", "datetime": "date", "date": "date",
                  "enumeration": "select", "bool": "booleancheckbox"}  # fmt: skip


def _p(name: str, ptype: str, **kw: Any) -> FieldDef:
    kw.setdefault("field_type", _HS_FIELD_TYPE[ptype])
    kw.setdefault("group", "contactinformation")
    return _f(name, ptype, **kw)


def _hs_common(created: str) -> list[FieldDef]:
    return [
        _p("hs_object_id", "number", updateable=False, createable=False, label="Record ID"),
        _p(created, "datetime", updateable=False, createable=False),
        _p("hs_lastmodifieddate", "datetime", updateable=False, createable=False),
        _p("hubspot_owner_id", "enumeration", label="Owner"),
        _p("archivedAt", "datetime", hidden=True),
    ]


def _hs_contact() -> list[FieldDef]:
    return [
        *_hs_common("createdate"), _p("lastmodifieddate", "datetime", updateable=False, createable=False),
        _p("email", "string", unique=True), _p("firstname", "string"), _p("lastname", "string"),
        _p("phone", "string"), _p("company", "string"), _p("jobtitle", "string"),
        _p("numemployees", "enumeration", options=HS_EMPLOYEE_BUCKETS),
        _p("hs_lead_status", "enumeration", options=HS_LEAD_STATUSES),
        _p("lifecyclestage", "enumeration", options=HS_LIFECYCLE_STAGES),
        _p("hubspotscore", "number", updateable=False), _p("hs_analytics_source", "enumeration"),
    ]  # fmt: skip


def _hs_contact_custom() -> list[FieldDef]:
    return [
        _p("crmsync_status", "string", custom=True), _p("crmsync_sla_due", "datetime", custom=True),
        _p("crmsync_reassignments", "number", custom=True),
        _p("disposition_reason", "string", custom=True),
    ]  # fmt: skip


def _hs_engagements() -> dict[str, list[FieldDef]]:
    return {
        "emails": [_p("hs_email_direction", "enumeration", options=("EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL")),
                   _p("hs_email_subject", "string"), _p("hs_email_text", "string"),
                   _p("hs_email_status", "enumeration", options=("BOUNCED", "FAILED", "SCHEDULED", "SENDING", "SENT"))],
        "calls": [_p("hs_call_title", "string"), _p("hs_call_body", "string"),
                  _p("hs_call_direction", "enumeration", options=("INBOUND", "OUTBOUND")),
                  _p("hs_call_duration", "number"), _p("hs_call_status", "enumeration",
                  options=("BUSY", "CALLING_CRM_USER", "CANCELED", "COMPLETED", "CONNECTING", "FAILED",
                           "IN_PROGRESS", "NO_ANSWER", "QUEUED", "RINGING"))],
        "meetings": [_p("hs_meeting_title", "string"), _p("hs_meeting_body", "string"),
                     _p("hs_meeting_start_time", "datetime"), _p("hs_meeting_end_time", "datetime"),
                     _p("hs_meeting_outcome", "enumeration",
                        options=("SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED"))],
        "notes": [_p("hs_note_body", "string")],
        "tasks": [_p("hs_task_subject", "string"), _p("hs_task_body", "string"),
                  _p("hs_task_status", "enumeration", options=("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED",
                                                               "DEFERRED")),
                  _p("hs_task_priority", "enumeration", options=("LOW", "MEDIUM", "HIGH", "NONE")),
                  _p("hs_task_type", "enumeration", options=("CALL", "EMAIL", "TODO"))],
    }  # fmt: skip


def _hs_owner() -> list[FieldDef]:
    return [
        _p("hs_object_id", "number"), _p("email", "string"), _p("firstName", "string"), _p("lastName", "string"),
        _p("userId", "number"), _p("type", "enumeration", options=("PERSON", "QUEUE")), _p("timezone", "string"),
        _p("createdate", "datetime"), _p("lastmodifieddate", "datetime"), _p("archivedAt", "datetime", hidden=True),
    ]  # fmt: skip


def hubspot_schemas(*, custom_properties: bool = True) -> list[ObjectSchema]:
    """Fresh schemas of contacts, owners and the five engagement objects.

    ``custom_properties`` pre-creates crmsync's own properties (otherwise ``crmsync setup`` creates them).
    """
    contact = _hs_contact() + (_hs_contact_custom() if custom_properties else [])
    ext = [_p("crmsync_external_id", "string", custom=True, unique=True)] if custom_properties else []
    idx = ("hubspot_owner_id", "crmsync_external_id") if custom_properties else ("hubspot_owner_id",)
    schemas = [
        _schema("contacts", contact, label="Contacts", id_start=1001, indexed=("hubspot_owner_id", "email"),
                ranged=("lastmodifieddate",)),
        _schema("owners", _hs_owner(), label="Owners", id_start=100001, indexed=("email",)),
    ]  # fmt: skip
    for i, (name, extra) in enumerate(_hs_engagements().items()):
        fields = [*_hs_common("hs_createdate"), _p("hs_timestamp", "datetime"), *extra, *ext]
        engagement = _schema(name, fields, label=name.title(), id_start=(i + 1) * 10_000_001, indexed=idx,
                             ranged=("hs_lastmodifieddate",))  # fmt: skip
        schemas.append(engagement)
    return schemas


def parse_datetime(text: str) -> datetime:
    """Parse a Salesforce/HubSpot/ISO datetime (``Z``, ``+0000``, ``+00:00``; optional fraction) to UTC.

    Naive input is taken as UTC (Salesforce's rule); ValueError when it is not a datetime.
    """
    raw = text.strip()
    if raw.endswith("Z"):
        raw = raw[:-1] + "+00:00"
    elif len(raw) > 5 and raw[-5] in "+-" and raw[-4:].isdigit():
        raw = raw[:-2] + ":" + raw[-2:]
    parsed = datetime.fromisoformat(raw)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_value(fdef: FieldDef, raw: Any) -> Any:
    """Turn a wire value into the store's Python value for ``fdef``; ValueError when it does not fit.

    HubSpot sends every value as a string (``""`` clears); numbers and datetimes may come as epoch ms.
    """
    if raw is None or (raw == "" and fdef.type not in ("string", "textarea", "email", "phone")):
        return None
    kind = fdef.type
    epoch = isinstance(raw, int | float) or (isinstance(raw, str) and raw.isdigit())
    if kind in ("datetime", "date") and epoch:
        stamp = datetime.fromtimestamp(int(raw) / 1000, tz=UTC)
        return stamp if kind == "datetime" else stamp.date()
    if kind == "datetime":
        return parse_datetime(_need(raw, str))
    if kind == "date":
        return date.fromisoformat(_need(raw, str)[:10])
    if kind in ("int", "double", "number", "currency", "percent"):
        return _number(raw, integral=kind == "int")
    if kind in ("boolean", "bool"):
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise ValueError("not a boolean")
    text = _need(raw, str)
    if fdef.options and kind in ("picklist", "enumeration") and text not in fdef.options:
        raise ValueError("bad value for restricted picklist field")
    if fdef.length and len(text) > fdef.length:
        raise ValueError("data value too large")
    return text


def _need(raw: Any, kind: type[str]) -> str:
    if not isinstance(raw, kind):
        raise ValueError(f"expected {kind.__name__}")
    return raw


def _number(raw: Any, *, integral: bool) -> int | float:
    if isinstance(raw, bool):
        raise ValueError("not a number")
    if isinstance(raw, str):
        raw = float(raw) if any(c in raw for c in ".eE") else int(raw)
    if not isinstance(raw, int | float):
        raise ValueError("not a number")
    if integral:
        if isinstance(raw, float) and not raw.is_integer():
            raise ValueError("not an integer")
        return int(raw)
    return raw


def sf_wire(value: Any) -> Any:
    """A store value as Salesforce JSON: datetimes ``2026-03-02T14:00:00.000+0000``, dates ISO."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"
    if isinstance(value, date):
        return value.isoformat()
    return value


def hs_wire(value: Any) -> str | None:
    """A store value as a HubSpot v3 property string (``None`` stays null; datetimes ISO with ``Z``)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
