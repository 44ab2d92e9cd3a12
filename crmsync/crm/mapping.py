"""Vendor payloads ⇄ domain values, pure.

Reads: a Salesforce record (the JSON of a SOQL row) or a HubSpot object (``{"id", "properties", ...}``) becomes
a domain value, or a :class:`~crmsync.crm.ports.Skip` naming the record and the reason when it cannot be mapped
(missing id, wrong type, unknown owner kind, bad timestamp). Writes: each :data:`~crmsync.domain.Action`
becomes exactly one vendor write (:class:`SfWrite` / :class:`HsWrite`).

Field names go through a :class:`FieldMap` (logical name → CRM name, the policy's ``fields`` over vendor
defaults). An activity crmsync logged itself carries its capture key in the ``activity_key`` field; pulled back,
its :attr:`Activity.key` is that key (not the CRM id), so the store never counts a captured touch twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from crmsync.crm.ports import Skip
from crmsync.domain import (
    Activity,
    ActivitySource,
    Channel,
    CreateTask,
    Direction,
    Lead,
    LeadRef,
    Owner,
    OwnerKind,
    Vendor,
)

SF_DEFAULTS: Mapping[str, str] = {
    "owner": "OwnerId",
    "status": "Status",
    "email": "Email",
    "crmsync_status": "Crmsync_Status__c",
    "sla_due": "Crmsync_SLA_Due__c",
    "reassignment_count": "Crmsync_Reassignments__c",
    "disposition": "Disposition_Reason__c",
    "score": "Lead_Score__c",
    "activity_key": "Crmsync_External_Id__c",
}
HS_DEFAULTS: Mapping[str, str] = {
    "owner": "hubspot_owner_id",
    "status": "hs_lead_status",
    "email": "email",
    "crmsync_status": "crmsync_status",
    "sla_due": "crmsync_sla_due",
    "reassignment_count": "crmsync_reassignments",
    "disposition": "disposition_reason",
    "score": "hubspotscore",
    "activity_key": "crmsync_external_id",
}
HS_CONVERTED_STAGES = frozenset({"opportunity", "customer", "evangelist"})
"""HubSpot lifecycle stages past the lead stage: such a contact is treated like a converted Salesforce lead."""

HS_ASSOCIATION_TYPES: Mapping[str, int] = {"emails": 198, "meetings": 200, "tasks": 204, "calls": 194, "notes": 202}
"""HUBSPOT_DEFINED association type ids from an activity object to a contact."""

SF_KEY_LENGTH = 255
"""An external-id field holds at most this many characters; longer keys are replaced by their digest."""


@dataclass(frozen=True, slots=True)
class FieldMap:
    """Logical field names → CRM field names for one connection (vendor defaults overlaid by the policy's)."""

    vendor: Vendor
    names: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def for_vendor(cls, vendor: Vendor, overrides: Mapping[str, str] | None = None) -> FieldMap:
        """The defaults of ``vendor`` with ``overrides`` (the policy's ``fields``) on top."""
        base = SF_DEFAULTS if vendor is Vendor.SALESFORCE else HS_DEFAULTS
        return cls(vendor, {**base, **(overrides or {})})

    def crm(self, logical: str) -> str:
        """The CRM name of ``logical`` (a name the map does not know is taken to be a CRM name already)."""
        return self.names.get(logical, logical)


class MappingError(ValueError):
    """Raised inside this module when a payload does not fit; turned into a :class:`Skip` at the edge."""


# -- values ------------------------------------------------------------------------------------------------
def parse_instant(value: object) -> datetime:
    """A timezone-aware UTC instant from a datetime, epoch milliseconds, or an SF/HS/ISO string."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise MappingError("timestamp without a timezone")
        return value.astimezone(UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if not isinstance(value, str) or not value.strip():
        raise MappingError(f"bad timestamp {value!r}")
    raw = value.strip()
    if raw.isdigit():
        return datetime.fromtimestamp(int(raw) / 1000, tz=UTC)
    if raw.endswith("Z"):
        raw = raw[:-1] + "+00:00"
    elif len(raw) > 5 and raw[-5] in "+-" and raw[-4:].isdigit():
        raw = raw[:-2] + ":" + raw[-2:]
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as err:
        raise MappingError(f"bad timestamp {value!r}") from err
    if parsed.tzinfo is None:
        raise MappingError(f"timestamp without a timezone {value!r}")
    return parsed.astimezone(UTC)


def sf_datetime(instant: datetime) -> str:
    """An instant as a Salesforce datetime literal / JSON value (UTC, milliseconds)."""
    utc = instant.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def hs_millis(instant: datetime) -> str:
    """An instant as HubSpot epoch milliseconds (the form search filters take)."""
    return str(int(instant.astimezone(UTC).timestamp() * 1000))


def activity_external_id(capture_key: str) -> str:
    """The value written to the external-id field for a capture key (a digest when the key is too long)."""
    if len(capture_key) <= SF_KEY_LENGTH:
        return capture_key
    return "sha256:" + hashlib.sha256(capture_key.encode()).hexdigest()


def task_external_id(action: CreateTask) -> str:
    """A stable key for a task action, so creating it twice (a retry after a timeout) upserts one task."""
    due = action.due_at.isoformat() if action.due_at else ""
    raw = f"{action.lead.connection}|{action.lead.lead_id}|{action.owner_id}|{action.subject}|{due}"
    return "task:" + hashlib.sha256(raw.encode()).hexdigest()[:40]


def _text(record: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = record.get(name)
    if value is None or value == "":
        if required:
            raise MappingError(f"missing {name}")
        return None
    if not isinstance(value, str):
        raise MappingError(f"{name} is not text")
    return value


def _flatten(record: Mapping[str, Any]) -> dict[str, object]:
    """A SOQL row without ``attributes``, relationship objects flattened to ``Owner.Type`` keys."""
    out: dict[str, object] = {}
    for key, value in record.items():
        if key == "attributes":
            continue
        if isinstance(value, Mapping):
            for sub, inner in value.items():
                if sub != "attributes":
                    out[f"{key}.{sub}"] = inner
        else:
            out[key] = value
    return out


def _record_id(record: Mapping[str, Any], key: str) -> str | None:
    value = record.get(key)
    return value if isinstance(value, str) and value else None


# -- Salesforce reads --------------------------------------------------------------------------------------
SF_USER_PREFIX = "005"
SF_QUEUE_PREFIX = "00G"
SF_LEAD_PREFIX = "00Q"


def _sf_owner_id(record: Mapping[str, Any], name: str) -> str | None:
    owner = _text(record, name)
    if owner is not None and not owner.startswith((SF_USER_PREFIX, SF_QUEUE_PREFIX)):
        raise MappingError(f"unknown owner kind for {name} {owner[:3]}...")
    return owner


def sf_lead(connection: str, record: Mapping[str, Any], fields: FieldMap) -> Lead | Skip:
    """A Salesforce ``Lead`` row (deleted rows from queryAll included) as a :class:`Lead`, or a skip."""
    rid = _record_id(record, "Id")
    try:
        lead_id = _text(record, "Id", required=True)
        assert lead_id is not None
        if not lead_id.startswith(SF_LEAD_PREFIX):
            raise MappingError("not a Lead id")
        return Lead(
            ref=LeadRef(connection, lead_id),
            owner_id=_sf_owner_id(record, fields.crm("owner")),
            email=_text(record, fields.crm("email")),
            status=_text(record, fields.crm("status")),
            created_at=parse_instant(record.get("CreatedDate")),
            modified_at=parse_instant(record.get("SystemModstamp")),
            fields=_flatten(record),
            converted=record.get("IsConverted") is True,
            deleted=record.get("IsDeleted") is True,
        )
    except MappingError as err:
        return Skip("Lead", rid, str(err))


def sf_user(connection: str, record: Mapping[str, Any]) -> Owner | Skip:
    """A Salesforce ``User`` row as an :class:`Owner` of kind USER."""
    rid = _record_id(record, "Id")
    try:
        user_id = _text(record, "Id", required=True)
        assert user_id is not None
        if not user_id.startswith(SF_USER_PREFIX):
            raise MappingError("not a User id")
        name = _text(record, "Name") or " ".join(
            p for p in (_text(record, "FirstName"), _text(record, "LastName")) if p
        )
        return Owner(
            connection=connection,
            owner_id=user_id,
            kind=OwnerKind.USER,
            name=name or user_id,
            email=_text(record, "Email"),
            active=record.get("IsActive") is not False,
            timezone=_text(record, "TimeZoneSidKey"),
        )
    except MappingError as err:
        return Skip("User", rid, str(err))


def sf_queue(connection: str, record: Mapping[str, Any]) -> Owner | Skip:
    """A Salesforce ``Group`` row of Type ``Queue`` as an :class:`Owner` of kind QUEUE."""
    rid = _record_id(record, "Id")
    try:
        queue_id = _text(record, "Id", required=True)
        assert queue_id is not None
        if record.get("Type", "Queue") != "Queue" or not queue_id.startswith(SF_QUEUE_PREFIX):
            raise MappingError("unknown owner kind: group is not a queue")
        return Owner(connection, queue_id, OwnerKind.QUEUE, _text(record, "Name") or queue_id, _text(record, "Email"))
    except MappingError as err:
        return Skip("Group", rid, str(err))


_SF_TASK_CHANNEL = {"Email": Channel.EMAIL, "ListEmail": Channel.EMAIL, "Call": Channel.CALL}
_SF_TYPE_CHANNEL = {"Email": Channel.EMAIL, "Call": Channel.CALL, "Meeting": Channel.MEETING}
INBOUND_SUBJECT_PREFIX = "Reply: "
"""Salesforce email tasks carry no direction: crmsync logs inbound mail with this subject prefix and reads it back."""


def sf_activity(connection: str, sobject: str, record: Mapping[str, Any], fields: FieldMap) -> Activity | Skip:
    """A Salesforce ``Task`` or ``Event`` whose WhoId is a lead as an :class:`Activity` (or a skip)."""
    rid = _record_id(record, "Id")
    try:
        crm_id = _text(record, "Id", required=True)
        assert crm_id is not None
        who = _text(record, "WhoId")
        if who is None or not who.startswith(SF_LEAD_PREFIX):
            raise MappingError("not on a lead")
        subject = _text(record, "Subject")
        if sobject == "Event":
            channel, occurred = Channel.MEETING, parse_instant(record.get("StartDateTime") or record.get("CreatedDate"))
            duration = record.get("DurationInMinutes")
        else:
            subtype, kind = _text(record, "TaskSubtype"), _text(record, "Type")
            channel = _SF_TASK_CHANNEL.get(subtype or "") or _SF_TYPE_CHANNEL.get(kind or "", Channel.OTHER)
            occurred = parse_instant(record.get("CreatedDate"))
            seconds = record.get("CallDurationInSeconds")
            duration = seconds // 60 if isinstance(seconds, int) else None
        inbound = record.get("CallType") == "Inbound" or (
            channel is Channel.EMAIL and (subject or "").startswith(INBOUND_SUBJECT_PREFIX)
        )
        key = _text(record, fields.crm("activity_key"))
        return Activity(
            connection=connection,
            key=key or crm_id,
            lead_id=who,
            owner_id=_sf_owner_id(record, "OwnerId"),
            channel=channel,
            direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
            occurred_at=occurred,
            source=ActivitySource.CAPTURE if key else ActivitySource.CRM,
            duration_minutes=duration if isinstance(duration, int) else None,
            subject=subject,
            crm_id=crm_id,
        )
    except MappingError as err:
        return Skip(sobject, rid, str(err))


# -- HubSpot reads -----------------------------------------------------------------------------------------
def _props(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    props = obj.get("properties")
    if props is None:
        return {}
    if not isinstance(props, Mapping):
        raise MappingError("properties is not an object")
    return props


def _hs_id(obj: Mapping[str, Any]) -> str:
    value = obj.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.isdigit():
        raise MappingError("missing or non-numeric id")
    return value


def _hs_owner_id(props: Mapping[str, Any], name: str) -> str | None:
    owner = props.get(name)
    if owner is None or owner == "":
        return None
    if not isinstance(owner, str) or not owner.isdigit():
        raise MappingError(f"unknown owner kind for {name}")
    return owner


def hs_contact(connection: str, obj: Mapping[str, Any], fields: FieldMap) -> Lead | Skip:
    """A HubSpot contact (live from search, or archived from the list) as a :class:`Lead`, or a skip."""
    raw_id = obj.get("id")
    rid = str(raw_id) if raw_id is not None else None
    try:
        contact_id = _hs_id(obj)
        props = _props(obj)
        archived = obj.get("archived") is True
        created = props.get("createdate") or obj.get("created_at") or obj.get("createdAt")
        modified = props.get("lastmodifieddate") or obj.get("updated_at") or obj.get("updatedAt")
        if archived:
            modified = obj.get("archived_at") or obj.get("archivedAt") or modified
        stage = props.get("lifecyclestage")
        return Lead(
            ref=LeadRef(connection, contact_id),
            owner_id=_hs_owner_id(props, fields.crm("owner")),
            email=_text(props, fields.crm("email")),
            status=_text(props, fields.crm("status")),
            created_at=parse_instant(created),
            modified_at=parse_instant(modified),
            fields=dict(props),
            converted=isinstance(stage, str) and stage in HS_CONVERTED_STAGES,
            deleted=archived,
        )
    except MappingError as err:
        return Skip("contacts", rid, str(err))


def hs_owner(connection: str, obj: Mapping[str, Any]) -> Owner | Skip:
    """A HubSpot owner (``type`` PERSON or QUEUE; archived means deactivated) as an :class:`Owner`."""
    raw_id = obj.get("id")
    rid = str(raw_id) if raw_id is not None else None
    try:
        owner_id = _hs_id(obj)
        kinds = {"PERSON": OwnerKind.USER, "QUEUE": OwnerKind.QUEUE}
        kind = kinds.get(str(obj.get("type") or "PERSON"))
        if kind is None:
            raise MappingError(f"unknown owner kind {obj.get('type')!r}")
        first, last = (
            _text(obj, "first_name") or _text(obj, "firstName"),
            _text(obj, "last_name") or _text(obj, "lastName"),
        )
        email = _text(obj, "email")
        name = " ".join(p for p in (first, last) if p) or email or owner_id
        return Owner(connection, owner_id, kind, name, email, active=obj.get("archived") is not True)
    except MappingError as err:
        return Skip("owners", rid, str(err))


_HS_DIRECTION = {"INCOMING_EMAIL": Direction.INBOUND, "INBOUND": Direction.INBOUND}
_HS_CHANNEL = {"emails": Channel.EMAIL, "calls": Channel.CALL, "meetings": Channel.MEETING}


def hs_engagement(
    connection: str, object_type: str, obj: Mapping[str, Any], contact_ids: list[str], fields: FieldMap
) -> Activity | Skip:
    """A HubSpot email/call/meeting associated with ``contact_ids`` as an :class:`Activity` on the first contact.

    An engagement on several contacts counts for the lowest contact id only (one touch, one lead).
    """
    raw_id = obj.get("id")
    rid = str(raw_id) if raw_id is not None else None
    try:
        crm_id = _hs_id(obj)
        channel = _HS_CHANNEL.get(object_type)
        if channel is None:
            raise MappingError(f"unknown engagement type {object_type}")
        if not contact_ids:
            raise MappingError("not on a contact")
        props = _props(obj)
        direction_raw = props.get("hs_email_direction") or props.get("hs_call_direction") or ""
        key = _text(props, fields.crm("activity_key"))
        return Activity(
            connection=connection,
            key=key or crm_id,
            lead_id=min(contact_ids, key=lambda c: (len(c), c)),
            owner_id=_hs_owner_id(props, "hubspot_owner_id"),
            channel=channel,
            direction=_HS_DIRECTION.get(str(direction_raw), Direction.OUTBOUND),
            occurred_at=parse_instant(props.get("hs_timestamp") or props.get("hs_createdate")),
            source=ActivitySource.CAPTURE if key else ActivitySource.CRM,
            duration_minutes=_hs_duration(object_type, props),
            subject=_text(props, "hs_email_subject")
            or _text(props, "hs_meeting_title")
            or _text(props, "hs_call_title"),
            crm_id=crm_id,
        )
    except MappingError as err:
        return Skip(object_type, rid, str(err))


def _hs_duration(object_type: str, props: Mapping[str, Any]) -> int | None:
    if object_type == "calls":
        raw = props.get("hs_call_duration")
        return int(float(raw)) // 60000 if isinstance(raw, str) and raw.replace(".", "", 1).isdigit() else None
    if object_type == "meetings" and props.get("hs_meeting_start_time") and props.get("hs_meeting_end_time"):
        start = parse_instant(props["hs_meeting_start_time"])
        return int((parse_instant(props["hs_meeting_end_time"]) - start).total_seconds() // 60)
    return None
