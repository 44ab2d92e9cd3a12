"""Domain actions → vendor writes, pure.

Each :data:`~crmsync.domain.Action` becomes exactly one vendor write: a :class:`SfWrite` (Lead update by Id,
or Task/Event upsert by the external-id field, so a retried task or logged activity lands once) or a
:class:`HsWrite` (contact update, or activity-object create keyed for the ledger). Field names go through the
connection's :class:`~crmsync.crm.mapping.FieldMap`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, assert_never

from crmsync.crm.mapping import (
    HS_ASSOCIATION_TYPES,
    INBOUND_SUBJECT_PREFIX,
    FieldMap,
    activity_external_id,
    hs_millis,
    sf_datetime,
    task_external_id,
)
from crmsync.domain import (
    Action,
    Assign,
    Channel,
    CreateTask,
    Direction,
    Flag,
    Hide,
    LogActivity,
    Reassign,
    Recycle,
    Reopen,
    SetDisposition,
)


@dataclass(frozen=True, slots=True)
class SfWrite:
    """One Salesforce record write: ``update`` by Id (Lead) or ``upsert`` by external id (Task/Event)."""

    op: Literal["update", "upsert"]
    sobject: str
    record: dict[str, Any]
    external_id_field: str | None = None


@dataclass(frozen=True, slots=True)
class HsWrite:
    """One HubSpot write: ``update`` of a contact's properties, or idempotent ``create`` of an activity object.

    ``key`` is the activity's idempotency key (written to the ``activity_key`` property); ``contact_id`` is the
    contact to associate with ``association_type``.
    """

    op: Literal["update", "create"]
    object_type: str
    properties: dict[str, str]
    record_id: str | None = None
    key: str | None = None
    contact_id: str | None = None
    association_type: int | None = None


STATUS_TEXT_MAX = 255
"""Length of the crmsync status field as ``crmsync setup`` defines it (Salesforce Text(255))."""


def status_text(text: str) -> str:
    """``text`` cut to fit the status field, ending in an ellipsis when cut (a long reason must not fail a move)."""
    return text if len(text) <= STATUS_TEXT_MAX else text[: STATUS_TEXT_MAX - 1] + "…"


def lead_changes(action: Action, fields: FieldMap) -> dict[str, object] | None:
    """The lead fields an action sets (logical values, not yet vendor-encoded); None for non-lead actions."""
    f = fields.crm
    match action:
        case Assign(owner_id=owner, status_text=text, due_at=due):
            return {f("owner"): owner, f("crmsync_status"): status_text(text), f("sla_due"): due}
        case Reassign(owner_id=owner, status_text=text, due_at=due, reassignment_count=count):
            return {
                f("owner"): owner,
                f("crmsync_status"): status_text(text),
                f("sla_due"): due,
                f("reassignment_count"): count,
            }
        case Hide(holding_owner_id=owner, status_text=text):
            return {f("owner"): owner, f("crmsync_status"): status_text(text), f("sla_due"): None}
        case Recycle(holding_owner_id=owner, status=status, reason=reason):
            return {f("owner"): owner, f("status"): status, f("disposition"): reason, f("sla_due"): None}
        case SetDisposition(reason=reason):
            return {f("disposition"): reason}
        case Reopen(owner_id=owner, status=status, message=message):
            return {f("owner"): owner, f("status"): status, f("crmsync_status"): status_text(message)}
        case Flag(message=message):
            return {f("crmsync_status"): status_text(message)}
        case CreateTask() | LogActivity():
            return None
        case _:
            assert_never(action)


def sf_write(action: Action, fields: FieldMap, now: datetime) -> SfWrite:
    """The one Salesforce write that carries out ``action``."""
    changes = lead_changes(action, fields)
    if changes is not None:
        record: dict[str, Any] = {"attributes": {"type": "Lead"}, "Id": action.lead.lead_id}
        record.update({k: sf_datetime(v) if isinstance(v, datetime) else v for k, v in changes.items()})
        return SfWrite("update", "Lead", record)
    key_field = fields.crm("activity_key")
    if isinstance(action, CreateTask):
        due = (action.due_at or now).astimezone(UTC).date().isoformat()
        task = {"attributes": {"type": "Task"}, key_field: task_external_id(action), "WhoId": action.lead.lead_id,
                "OwnerId": action.owner_id, "Subject": action.subject[:255], "Description": action.description,
                "ActivityDate": due, "Status": "Not Started", "Priority": "High", "TaskSubtype": "Task"}  # fmt: skip
        return SfWrite("upsert", "Task", task, key_field)
    assert isinstance(action, LogActivity)
    return _sf_log(action, key_field)


def _sf_log(action: LogActivity, key_field: str) -> SfWrite:
    common: dict[str, Any] = {key_field: activity_external_id(action.capture_key), "WhoId": action.lead.lead_id}
    if action.owner_id:
        common["OwnerId"] = action.owner_id
    if action.body is not None:
        common["Description"] = action.body
    if action.channel is Channel.MEETING:
        minutes = action.duration_minutes or 30
        end = action.occurred_at + timedelta(minutes=minutes)
        event = {"attributes": {"type": "Event"}, **common, "Subject": action.subject[:255],
                 "StartDateTime": sf_datetime(action.occurred_at), "EndDateTime": sf_datetime(end),
                 "DurationInMinutes": minutes}  # fmt: skip
        return SfWrite("upsert", "Event", event, key_field)
    inbound = action.direction is Direction.INBOUND and action.channel is Channel.EMAIL
    subject = (INBOUND_SUBJECT_PREFIX if inbound else "") + action.subject
    subtype = "Call" if action.channel is Channel.CALL else "Email"
    task = {"attributes": {"type": "Task"}, **common, "Subject": subject[:255], "Status": "Completed",
            "Priority": "Normal", "TaskSubtype": subtype,
            "ActivityDate": action.occurred_at.astimezone(UTC).date().isoformat()}  # fmt: skip
    if action.channel is Channel.CALL:
        task["CallType"] = "Inbound" if action.direction is Direction.INBOUND else "Outbound"
        if action.duration_minutes is not None:
            task["CallDurationInSeconds"] = action.duration_minutes * 60
    return SfWrite("upsert", "Task", task, key_field)


def _hs_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return hs_millis(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def hs_write(action: Action, fields: FieldMap, now: datetime) -> HsWrite:
    """The one HubSpot write that carries out ``action`` (``""`` clears a property)."""
    changes = lead_changes(action, fields)
    if changes is not None:
        props = {k: _hs_value(v) for k, v in changes.items()}
        return HsWrite("update", "contacts", props, record_id=action.lead.lead_id)
    key_prop = fields.crm("activity_key")
    contact = action.lead.lead_id
    if isinstance(action, CreateTask):
        key = task_external_id(action)
        props = {"hs_task_subject": action.subject, "hs_task_body": action.description, "hs_task_status": "NOT_STARTED",
                 "hs_task_priority": "HIGH", "hs_task_type": "TODO", "hubspot_owner_id": action.owner_id,
                 "hs_timestamp": hs_millis(action.due_at or now), key_prop: key}  # fmt: skip
        return HsWrite(
            "create", "tasks", props, key=key, contact_id=contact, association_type=HS_ASSOCIATION_TYPES["tasks"]
        )
    assert isinstance(action, LogActivity)
    return _hs_log(action, key_prop)


def _hs_log(action: LogActivity, key_prop: str) -> HsWrite:
    key = activity_external_id(action.capture_key)
    props: dict[str, str] = {"hs_timestamp": hs_millis(action.occurred_at), key_prop: key}
    if action.owner_id:
        props["hubspot_owner_id"] = action.owner_id
    inbound = action.direction is Direction.INBOUND
    if action.channel is Channel.MEETING:
        end = action.occurred_at + timedelta(minutes=action.duration_minutes or 30)
        props |= {"hs_meeting_title": action.subject, "hs_meeting_start_time": hs_millis(action.occurred_at),
                  "hs_meeting_end_time": hs_millis(end), "hs_meeting_outcome": "COMPLETED"}  # fmt: skip
        if action.body is not None:
            props["hs_meeting_body"] = action.body
        object_type = "meetings"
    elif action.channel is Channel.CALL:
        props |= {"hs_call_title": action.subject, "hs_call_direction": "INBOUND" if inbound else "OUTBOUND",
                  "hs_call_status": "COMPLETED"}  # fmt: skip
        if action.duration_minutes is not None:
            props["hs_call_duration"] = str(action.duration_minutes * 60000)
        if action.body is not None:
            props["hs_call_body"] = action.body
        object_type = "calls"
    else:
        props |= {"hs_email_subject": action.subject, "hs_email_direction": "INCOMING_EMAIL" if inbound else "EMAIL",
                  "hs_email_status": "SENT"}  # fmt: skip
        if action.body is not None:
            props["hs_email_text"] = action.body
        object_type = "emails"
    return HsWrite("create", object_type, props, key=key, contact_id=action.lead.lead_id,
                   association_type=HS_ASSOCIATION_TYPES[object_type])  # fmt: skip
