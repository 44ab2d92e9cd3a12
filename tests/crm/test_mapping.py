"""Vendor payloads ⇄ domain values: what maps, what is skipped and why, and what each action writes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from crmsync.crm.mapping import (
    FieldMap,
    activity_external_id,
    hs_contact,
    hs_engagement,
    hs_owner,
    parse_instant,
    sf_activity,
    sf_lead,
    sf_queue,
    sf_user,
)
from crmsync.crm.ports import Skip
from crmsync.crm.writes import hs_write, sf_write
from crmsync.domain import (
    Activity,
    ActivitySource,
    Assign,
    Channel,
    CreateTask,
    Direction,
    Hide,
    Lead,
    LeadRef,
    LogActivity,
    Owner,
    OwnerKind,
    Reassign,
    Recycle,
    SetDisposition,
    Vendor,
)
from tests.crm.architecture import pure_violations

SF = FieldMap.for_vendor(Vendor.SALESFORCE)
HS = FieldMap.for_vendor(Vendor.HUBSPOT)
NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
LEAD = "00QSb0000000001AAA"
USER = "005Sb0000000001AAA"
QUEUE = "00GSb0000000001AAA"


def sf_row(**over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "attributes": {"type": "Lead"}, "Id": LEAD, "OwnerId": USER, "Email": "a@x.test", "Status": "Open",
        "CreatedDate": "2026-03-01T10:00:00.000+0000", "SystemModstamp": "2026-03-02T10:00:00.000+0000",
        "IsConverted": False, "IsDeleted": False, "Lead_Score__c": 61.0, "Owner": {"Type": "User"},
    }  # fmt: skip
    row.update(over)
    return row


def test_salesforce_lead_maps_fields_owner_and_stamps() -> None:
    """A Lead row becomes a Lead with SystemModstamp as modified time and flattened relationship fields."""
    lead = sf_lead("sf", sf_row(), SF)
    assert isinstance(lead, Lead)
    assert lead.ref == LeadRef("sf", LEAD)
    assert lead.owner_id == USER
    assert lead.modified_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert lead.fields["Lead_Score__c"] == 61.0
    assert lead.fields["Owner.Type"] == "User"
    assert "attributes" not in lead.fields


@pytest.mark.parametrize(
    ("over", "reason"),
    [
        ({"Id": None}, "missing Id"),
        ({"Id": "001Sb0000000001AAA"}, "not a Lead id"),
        ({"OwnerId": "0DBSb0000000001AAA"}, "unknown owner kind"),
        ({"SystemModstamp": "yesterday"}, "bad timestamp"),
        ({"CreatedDate": "2026-03-01T10:00:00"}, "without a timezone"),
        ({"Email": 42}, "not text"),
    ],
    ids=["missing-id", "wrong-type", "unknown-owner-kind", "bad-timestamp", "naive-timestamp", "wrong-value-type"],
)
def test_salesforce_lead_that_cannot_be_mapped_is_skipped_with_id_and_reason(over: dict[str, Any], reason: str) -> None:
    """A malformed Lead row becomes a Skip naming the record and the reason, never an exception."""
    skip = sf_lead("sf", sf_row(**over), SF)
    assert isinstance(skip, Skip)
    assert skip.object == "Lead"
    assert skip.record_id == (over.get("Id", LEAD) if isinstance(over.get("Id", LEAD), str) else None)
    assert reason in skip.reason


def test_deleted_and_converted_salesforce_leads_stop_clocks() -> None:
    """queryAll's deleted rows and converted leads map with the flags that stop every clock."""
    deleted = sf_lead("sf", sf_row(IsDeleted=True), SF)
    converted = sf_lead("sf", sf_row(IsConverted=True), SF)
    assert isinstance(deleted, Lead)
    assert isinstance(converted, Lead)
    assert deleted.stopped
    assert converted.stopped


def test_salesforce_users_and_queues_become_owners() -> None:
    """Users map to USER owners (inactive kept, inactive); Queue groups to QUEUE; other groups are skipped."""
    user = sf_user("sf", {"Id": USER, "Name": "Ana Diaz", "Email": "ana@acme.test", "IsActive": False,
                          "TimeZoneSidKey": "America/New_York"})  # fmt: skip
    assert user == Owner("sf", USER, OwnerKind.USER, "Ana Diaz", "ana@acme.test", False, "America/New_York")
    queue = sf_queue("sf", {"Id": QUEUE, "Name": "Marketing Nurture", "Type": "Queue"})
    assert isinstance(queue, Owner)
    assert queue.kind is OwnerKind.QUEUE
    assert isinstance(sf_queue("sf", {"Id": QUEUE, "Name": "Role", "Type": "Role"}), Skip)


def test_salesforce_tasks_and_events_become_activities_keyed_by_capture_key_when_logged_by_crmsync() -> None:
    """An email Task is an outbound email touch; one crmsync logged carries its capture key back as key."""
    task = {"Id": "00TSb0000000001AAA", "WhoId": LEAD, "OwnerId": USER, "TaskSubtype": "Email",
            "Subject": "Hello", "CreatedDate": "2026-03-02T10:00:00.000+0000",
            "Crmsync_External_Id__c": "<m1@x>"}  # fmt: skip
    act = sf_activity("sf", "Task", task, SF)
    assert isinstance(act, Activity)
    assert (act.channel, act.direction, act.key, act.source) == (
        Channel.EMAIL,
        Direction.OUTBOUND,
        "<m1@x>",
        ActivitySource.CAPTURE,
    )
    reply = sf_activity("sf", "Task", {**task, "Subject": "Reply: Hello", "Crmsync_External_Id__c": None}, SF)
    assert isinstance(reply, Activity)
    assert reply.is_reply
    assert reply.key == "00TSb0000000001AAA"
    event = {"Id": "00USb0000000001AAA", "WhoId": LEAD, "OwnerId": USER,
             "StartDateTime": "2026-03-02T15:00:00.000+0000",
             "DurationInMinutes": 30, "CreatedDate": "2026-03-01T10:00:00.000+0000"}  # fmt: skip
    meeting = sf_activity("sf", "Event", event, SF)
    assert isinstance(meeting, Activity)
    assert (meeting.channel, meeting.duration_minutes) == (Channel.MEETING, 30)
    assert isinstance(sf_activity("sf", "Task", {**task, "WhoId": "003Sb0000000001AAA"}, SF), Skip)


def test_hubspot_contact_maps_and_archived_contacts_are_deleted() -> None:
    """A contact maps with string properties kept; archived ones are deleted as of their archive time."""
    obj = {"id": "1001", "properties": {"email": "a@x.test", "hubspot_owner_id": "100001", "hs_lead_status": "NEW",
           "createdate": "2026-03-01T10:00:00.000Z", "lastmodifieddate": "2026-03-02T10:00:00.000Z"}}  # fmt: skip
    lead = hs_contact("hs", obj, HS)
    assert isinstance(lead, Lead)
    assert (lead.owner_id, lead.status, lead.modified_at) == ("100001", "NEW", datetime(2026, 3, 2, 10, tzinfo=UTC))
    gone = hs_contact("hs", {**obj, "archived": True, "archived_at": datetime(2026, 3, 2, 12, tzinfo=UTC)}, HS)
    assert isinstance(gone, Lead)
    assert gone.deleted
    assert gone.modified_at == datetime(2026, 3, 2, 12, tzinfo=UTC)
    customer = hs_contact("hs", {**obj, "properties": {**obj["properties"], "lifecyclestage": "customer"}}, HS)
    assert isinstance(customer, Lead)
    assert customer.converted


@pytest.mark.parametrize(
    ("obj", "reason"),
    [
        ({"properties": {}}, "missing or non-numeric id"),
        ({"id": "abc", "properties": {}}, "missing or non-numeric id"),
        ({"id": "7", "properties": {"hubspot_owner_id": "queue-x", "createdate": "1", "lastmodifieddate": "1"}},
         "unknown owner kind"),
        ({"id": "7", "properties": {"createdate": "soon", "lastmodifieddate": "1"}}, "bad timestamp"),
        ({"id": "7", "properties": ["email"]}, "properties is not an object"),
    ],
    ids=["missing-id", "non-numeric-id", "unknown-owner", "bad-timestamp", "wrong-type"],
)  # fmt: skip
def test_hubspot_contact_that_cannot_be_mapped_is_skipped(obj: dict[str, Any], reason: str) -> None:
    """A malformed contact becomes a Skip with its id (when it has one) and the reason."""
    skip = hs_contact("hs", obj, HS)
    assert isinstance(skip, Skip)
    assert reason in skip.reason
    assert skip.record_id == obj.get("id")


def test_hubspot_owners_person_queue_and_unknown_type() -> None:
    """PERSON owners are users, QUEUE owners queues, archived owners inactive, other types skipped."""
    person = hs_owner("hs", {"id": "100001", "email": "ana@acme.test", "first_name": "Ana", "type": "PERSON",
                             "archived": True})  # fmt: skip
    assert person == Owner("hs", "100001", OwnerKind.USER, "Ana", "ana@acme.test", active=False)
    queue = hs_owner("hs", {"id": "100002", "first_name": "Nurture", "type": "QUEUE"})
    assert isinstance(queue, Owner)
    assert queue.kind is OwnerKind.QUEUE
    robot = hs_owner("hs", {"id": "100003", "type": "ROBOT"})
    assert isinstance(robot, Skip)
    assert "unknown owner kind" in robot.reason


def test_hubspot_engagements_map_direction_and_lowest_contact() -> None:
    """Incoming emails are replies; an engagement on several contacts counts for the lowest contact id."""
    obj = {"id": "10000001", "properties": {"hs_timestamp": "2026-03-02T10:00:00Z",
           "hs_email_direction": "INCOMING_EMAIL",
           "hubspot_owner_id": "100001"}}  # fmt: skip
    act = hs_engagement("hs", "emails", obj, ["1020", "1003"], HS)
    assert isinstance(act, Activity)
    assert (act.lead_id, act.direction) == ("1003", Direction.INBOUND)
    assert isinstance(hs_engagement("hs", "emails", obj, [], HS), Skip)


def test_parse_instant_accepts_every_vendor_form() -> None:
    """SF ``+0000``, ISO ``Z``, epoch milliseconds (int or text) and aware datetimes all parse to UTC."""
    expected = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    for raw in ("2026-03-02T14:00:00.000+0000", "2026-03-02T14:00:00Z", 1772460000000, "1772460000000", expected):
        assert parse_instant(raw) == expected


def test_lead_actions_write_owner_status_and_auto_assign_safe_fields() -> None:
    """Owner-moving actions set OwnerId plus crmsync's status fields; HubSpot values travel as strings."""
    ref = LeadRef("sf", LEAD)
    assign = Assign(ref, USER, None, "r", "why", "Assigned by crmsync", NOW)
    write = sf_write(assign, SF, NOW)
    assert write.op == "update"
    assert write.record == {"attributes": {"type": "Lead"}, "Id": LEAD, "OwnerId": USER,
                            "Crmsync_Status__c": "Assigned by crmsync",
                            "Crmsync_SLA_Due__c": "2026-03-02T14:00:00.000Z"}  # fmt: skip
    reassign = hs_write(Reassign(LeadRef("hs", "1001"), "100002", "100001", "breach", 2, "Reassigned", None), HS, NOW)
    assert reassign.properties == {"hubspot_owner_id": "100002", "crmsync_status": "Reassigned", "crmsync_sla_due": "",
                                   "crmsync_reassignments": "2"}  # fmt: skip
    recycle = sf_write(Recycle(ref, QUEUE, USER, "Recycled", "Recycled: SLA expired"), SF, NOW)
    assert recycle.record["Status"] == "Recycled"
    assert recycle.record["Disposition_Reason__c"] == "Recycled: SLA expired"
    assert sf_write(Hide(ref, QUEUE, USER, "not MQL"), SF, NOW).record["OwnerId"] == QUEUE
    assert sf_write(SetDisposition(ref, "No budget"), SF, NOW).record == {
        "attributes": {"type": "Lead"},
        "Id": LEAD,
        "Disposition_Reason__c": "No budget",
    }


def test_tasks_and_logged_activities_are_upserts_on_a_stable_key() -> None:
    """CreateTask and LogActivity become upserts keyed so that writing them twice lands once."""
    ref = LeadRef("sf", LEAD)
    task = CreateTask(ref, USER, "Reassigned to you", "first touch due 15:00", NOW)
    first, again = sf_write(task, SF, NOW), sf_write(task, SF, datetime(2026, 3, 3, tzinfo=UTC))
    assert first.op == "upsert"
    assert first.external_id_field == "Crmsync_External_Id__c"
    assert first.record["Crmsync_External_Id__c"] == again.record["Crmsync_External_Id__c"]
    log = LogActivity(ref, "<m1@x>", USER, Channel.EMAIL, Direction.OUTBOUND, NOW, "Hi", None)
    email = sf_write(log, SF, NOW)
    assert (email.sobject, email.record["TaskSubtype"], email.record["Crmsync_External_Id__c"]) == (
        "Task",
        "Email",
        "<m1@x>",
    )
    meeting = hs_write(LogActivity(LeadRef("hs", "1001"), "uid-1", None, Channel.MEETING, Direction.OUTBOUND, NOW,
                                   "Demo", None, 45), HS, NOW)  # fmt: skip
    assert (meeting.object_type, meeting.association_type, meeting.key) == ("meetings", 200, "uid-1")
    assert meeting.properties["hs_meeting_end_time"] == str(int(NOW.timestamp() * 1000) + 45 * 60000)


def test_long_capture_keys_are_digested_to_fit_the_external_id_field() -> None:
    """A capture key longer than 255 characters is replaced by a stable digest."""
    key = "<" + "x" * 400 + "@host>"
    assert activity_external_id(key) == activity_external_id(key)
    assert len(activity_external_id(key)) <= 255
    assert activity_external_id("<short@x>") == "<short@x>"


def test_mapping_and_writes_are_pure() -> None:
    """mapping.py and writes.py import no I/O library and never read the wall clock."""
    assert pure_violations(["crm/mapping.py", "crm/writes.py"]) == []


@pytest.mark.parametrize(
    ("text", "expected_length", "cut"),
    [("short reason", 12, False), ("x" * 255, 255, False), ("y" * 400, 255, True)],
    ids=["short-kept", "exactly-255-kept", "long-cut-with-ellipsis"],
)
def test_status_text_always_fits_the_status_field(text: str, expected_length: int, cut: bool) -> None:
    """A status longer than the 255-character field is cut with an ellipsis instead of failing the move."""
    from crmsync.crm.mapping import FieldMap
    from crmsync.crm.writes import lead_changes
    from crmsync.domain import Hide, LeadRef, Vendor

    fields = FieldMap.for_vendor(Vendor.SALESFORCE, {"crmsync_status": "Crmsync_Status__c"})
    changes = lead_changes(Hide(LeadRef("sf", "00Q1"), "00G1", "005A", text), fields)
    assert changes is not None
    written = str(changes["Crmsync_Status__c"])
    assert len(written) == expected_length
    assert written.endswith("…") is cut
