"""The sandbox Salesforce server's write endpoints, driven by unmodified simple-salesforce.

Shapes are pinned against the examples of the Salesforce REST API Developer Guide; each test cites its page.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
)

from crmsync.clock import FakeClock
from crmsync.sandbox.faults import FaultKind, FaultPlan, FaultRule
from crmsync.sandbox.org import Org

NO_ASSIGN = {"Sforce-Auto-Assign": "FALSE"}
LEAD = {"LastName": "Kim", "Company": "Initech", "Email": "kim@initech.example"}


def _task(ext: str, who: str, **extra: Any) -> dict[str, Any]:
    return {"attributes": {"type": "Task"}, "Subject": "Email: hello", "TaskSubtype": "Email", "Status": "Completed",
            "WhoId": who, "Crmsync_External_Id__c": ext, **extra}  # fmt: skip


def test_create_update_delete_row(sf: Salesforce, sf_org: Org, seeded: dict[str, str], clock: FakeClock) -> None:
    """Create answers 201 {id, success, errors}; update and delete answer 204 (DOCS dome_sobject_create.htm,
    dome_update_fields.htm, dome_delete_record.htm)."""
    created = sf.Lead.create(LEAD, headers=NO_ASSIGN)
    assert set(created) == {"id", "success", "errors"}
    assert (created["success"], created["errors"]) == (True, [])
    assert created["id"].startswith("00Q")
    clock.advance(timedelta(minutes=1))
    assert sf.Lead.update(created["id"], {"Title": "CFO", "OwnerId": seeded["rep2"]}, headers=NO_ASSIGN) == 204
    stored = sf_org.get("Lead", created["id"])
    assert stored is not None
    assert (stored["Title"], stored["OwnerId"], stored["LastModifiedDate"]) == ("CFO", seeded["rep2"], clock.now())
    assert sf.Lead.delete(created["id"]) == 204
    assert sf_org.is_deleted("Lead", created["id"])


def test_assignment_rule_overrides_owner_without_header(sf: Salesforce, sf_org: Org, seeded: dict[str, str]) -> None:
    """Without Sforce-Auto-Assign: FALSE the org's assignment rule re-assigns the lead (DOCS headers_autoassign.htm)."""
    sf.Lead.update(seeded["lead0"], {"OwnerId": seeded["queue"]})
    assert sf_org.value("Lead", seeded["lead0"], "OwnerId") == seeded["rep2"]
    sf.Lead.update(seeded["lead0"], {"OwnerId": seeded["queue"]}, headers=NO_ASSIGN)
    assert sf_org.value("Lead", seeded["lead0"], "OwnerId") == seeded["queue"]


def test_if_unmodified_since_gives_412(sf: Salesforce, seeded: dict[str, str], clock: FakeClock) -> None:
    """A PATCH with If-Unmodified-Since older than the last change answers 412
    (DOCS intro_rest_conditional_requests.htm)."""
    before = {"If-Unmodified-Since": "Mon, 02 Mar 2026 12:00:00 GMT", **NO_ASSIGN}
    with pytest.raises(SalesforceGeneralError) as err:
        sf.Lead.update(seeded["lead0"], {"Title": "x"}, headers=before)
    assert err.value.status == 412
    assert err.value.content[0]["errorCode"] == "PRECONDITION_FAILED"
    after = {"If-Unmodified-Since": "Mon, 02 Mar 2026 14:00:00 GMT", **NO_ASSIGN}
    assert sf.Lead.update(seeded["lead0"], {"Title": "x"}, headers=after) == 204


@pytest.mark.parametrize(
    ("payload", "code", "fields"),
    [
        ({"Nope__c": 1}, "INVALID_FIELD", ["Nope__c"]),
        ({"IsConverted": True}, "INVALID_FIELD_FOR_INSERT_UPDATE", ["IsConverted"]),
        ({"Status": "Bogus"}, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", ["Status"]),
        ({"NumberOfEmployees": "many"}, "INVALID_TYPE_ON_FIELD_IN_RECORD", ["NumberOfEmployees"]),
        ({"OwnerId": "005Sb0000009999AAA"}, "INVALID_CROSS_REFERENCE_KEY", ["OwnerId"]),
        ({"Status": "Closed - Not Converted"}, "FIELD_CUSTOM_VALIDATION_EXCEPTION", None),
        ({"LastName": None}, "REQUIRED_FIELD_MISSING", ["LastName"]),
    ],
    ids=["unknown-field", "read-only", "picklist", "type", "bad-owner", "validation-rule", "required"],
)
def test_update_errors(
    sf: Salesforce, seeded: dict[str, str], payload: dict[str, Any], code: str, fields: list[str] | None
) -> None:
    """Refused updates answer 400 [{message, errorCode, fields}] (DOCS errorcodes.htm)."""
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Lead.update(seeded["lead0"], payload, headers=NO_ASSIGN)
    item = err.value.content[0]
    assert item["errorCode"] == code
    assert item.get("fields") == fields
    assert item["message"]


def test_inactive_owner_refused(sf: Salesforce, seeded: dict[str, str]) -> None:
    """Assigning to an inactive user answers INACTIVE_OWNER_OR_USER."""
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Lead.update(seeded["lead0"], {"OwnerId": seeded["gone"]}, headers=NO_ASSIGN)
    assert err.value.content[0]["errorCode"] == "INACTIVE_OWNER_OR_USER"


def test_task_on_lead_moves_last_activity_as_system_change(
    sf: Salesforce, sf_org: Org, seeded: dict[str, str], clock: FakeClock
) -> None:
    """Logging a Task on a lead moves its SystemModstamp, not its LastModifiedDate (crm-api-facts A3)."""
    clock.advance(timedelta(minutes=30))
    sf.Task.create({"Subject": "Call", "TaskSubtype": "Call", "Status": "Completed", "WhoId": seeded["lead0"]})
    lead = sf_org.get("Lead", seeded["lead0"])
    assert lead is not None
    assert lead["SystemModstamp"] == clock.now()
    assert lead["LastModifiedDate"] < clock.now()
    assert str(lead["LastActivityDate"]) == "2026-03-02"


def test_upsert_row_creates_then_updates(sf: Salesforce, sf_org: Org, seeded: dict[str, str]) -> None:
    """Upsert by external id answers 201 then 200 with created true/false (DOCS dome_upsert.htm)."""
    body = {"Subject": "Email", "Status": "Completed", "WhoId": seeded["lead1"]}
    assert sf.Task.upsert("Crmsync_External_Id__c/m-1", body) == 201
    answer = sf.Task.upsert("Crmsync_External_Id__c/m-1", {"Subject": "Email 2"}, raw_response=True)
    assert answer.status_code == 200
    assert answer.json()["created"] is False
    assert [sf_org.value("Task", t, "Subject") for t in sf_org.ids("Task")] == ["Email 2"]


def test_upsert_with_two_matches_is_300(sf: Salesforce, sf_org: Org) -> None:
    """An external id shared by two records answers 300 (DOCS dome_upsert.htm)."""
    for _ in range(2):
        sf_org.create("Task", {"Subject": "x", "Status": "Completed", "Crmsync_External_Id__c": "dup"})
    with pytest.raises(SalesforceMoreThanOneRecord):
        sf.Task.upsert("Crmsync_External_Id__c/dup", {"Subject": "y"})


def test_event_derives_end_and_activity_date(sf: Salesforce, sf_org: Org, seeded: dict[str, str]) -> None:
    """An Event with a start and duration gets EndDateTime, ActivityDateTime and ActivityDate."""
    made = sf.Event.create({"Subject": "Demo", "StartDateTime": "2026-03-04T15:00:00.000+0000",
                            "DurationInMinutes": 30, "WhoId": seeded["lead0"]})  # fmt: skip
    event = sf.Event.get(made["id"])
    assert (event["EndDateTime"], event["ActivityDate"]) == ("2026-03-04T15:30:00.000+0000", "2026-03-04")
    assert event["OwnerId"] == sf_org.find("User", "Username", "integration@crmsync.sandbox")[0]


def test_collection_create_results_in_order(sf: Salesforce, seeded: dict[str, str]) -> None:
    """Collections create answers 200 with one {id, success, errors} per record, failures with statusCode
    (DOCS resources_composite_sobjects_collections_create.htm)."""
    records = [_task("a", seeded["lead0"]), _task("b", "00QSb0000009999AAA"), {"attributes": {"type": "Lead"}, **LEAD}]
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": records})
    assert [r["success"] for r in results] == [True, False, True]
    assert results[0]["id"].startswith("00T")
    assert results[1] == {
        "success": False,
        "errors": [{"message": "invalid cross reference id", "statusCode": "INVALID_CROSS_REFERENCE_KEY",
                    "fields": ["WhoId"]}],
    }  # fmt: skip


def test_collection_all_or_none_rolls_back(sf: Salesforce, sf_org: Org, seeded: dict[str, str]) -> None:
    """With allOrNone a failure fails every record; valid ones say ALL_OR_NONE_OPERATION_ROLLED_BACK
    (crm-api-facts A5)."""
    records = [_task("a", seeded["lead0"]), _task("b", "00QSb0000009999AAA")]
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": records})
    assert results[0]["success"] is False
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"
    assert sf_org.count("Task") == 0


def test_collection_update_upsert_delete_retrieve(sf: Salesforce, sf_org: Org, seeded: dict[str, str]) -> None:
    """Update (PATCH), upsert (PATCH /Task/Field), delete (DELETE ?ids=) and retrieve answer per record
    (DOCS resources_composite_sobjects_collections_update.htm, ..._upsert.htm, ..._delete.htm, ..._retrieve.htm)."""
    move = [{"attributes": {"type": "Lead"}, "id": seeded[f"lead{i}"], "OwnerId": seeded["rep2"]} for i in range(3)]
    updated = sf.restful("composite/sobjects", method="PATCH", json={"records": move}, headers=NO_ASSIGN)
    assert updated == [{"id": seeded[f"lead{i}"], "success": True, "errors": []} for i in range(3)]
    upserts = [_task("x", seeded["lead0"]), _task("y", seeded["lead1"])]
    first = sf.restful("composite/sobjects/Task/Crmsync_External_Id__c", method="PATCH", json={"records": upserts})
    again = sf.restful("composite/sobjects/Task/Crmsync_External_Id__c", method="PATCH", json={"records": upserts})
    assert [r["created"] for r in first] == [True, True]
    assert [r["created"] for r in again] == [False, False]
    assert [r["id"] for r in again] == [r["id"] for r in first]
    got = sf.restful(f"composite/sobjects/Lead?ids={seeded['lead0']},00QSb0000009999AAA&fields=Id,OwnerId")
    assert got[0]["OwnerId"] == seeded["rep2"]
    assert got[1] is None
    gone = sf.restful(f"composite/sobjects?ids={first[0]['id']},{seeded['lead0']}", method="DELETE")
    assert [r["success"] for r in gone] == [True, True]
    assert sf_org.count("Task") == 1


def test_collection_over_200_is_400(sf: Salesforce, seeded: dict[str, str]) -> None:
    """More than 200 records is refused as a whole with 400."""
    records = [_task(str(i), seeded["lead0"]) for i in range(201)]
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite/sobjects", method="POST", json={"records": records})


@pytest.mark.parametrize(
    "fault_plan",
    [FaultPlan((FaultRule(FaultKind.RECORD_ERROR, endpoint="sf.composite.*", rate=0.3, code="UNABLE_TO_LOCK_ROW"),),
               seed=0)],
    ids=["lock-30pct"],
)  # fmt: skip
def test_injected_lock_errors_are_per_record_and_seeded(sf: Salesforce, sf_org: Org, seeded: dict[str, str]) -> None:
    """UNABLE_TO_LOCK_ROW faults hit the same records under the same seed and leave the rest applied."""
    move = [{"attributes": {"type": "Lead"}, "id": seeded[f"lead{i}"], "Title": "Dir"} for i in range(5)]
    results = sf.restful("composite/sobjects", method="PATCH", json={"records": move}, headers=NO_ASSIGN)
    failed = [r["id"] for r in results if not r["success"]]
    replay = FaultPlan(
        (FaultRule(FaultKind.RECORD_ERROR, endpoint="sf.composite.*", rate=0.3, code="UNABLE_TO_LOCK_ROW"),), seed=0
    ).record_faults("sf.composite.update", "PATCH", 5)
    assert failed == [seeded[f"lead{i}"] for i, f in enumerate(replay) if f is not None]
    assert failed
    assert all(r["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW" for r in results if not r["success"])
    titles = {sf_org.value("Lead", seeded[f"lead{i}"], "Title") for i in range(5) if seeded[f"lead{i}"] not in failed}
    assert titles == {"Dir"}


def test_assignment_rule_runs_on_collections_too(sf: Salesforce, sf_org: Org, seeded: dict[str, str]) -> None:
    """A collection update without Sforce-Auto-Assign: FALSE has its OwnerIds overwritten by the rule
    (DOCS headers_autoassign.htm)."""
    move = [{"attributes": {"type": "Lead"}, "id": seeded[f"lead{i}"], "OwnerId": seeded["queue"]} for i in range(2)]
    results = sf.restful("composite/sobjects", method="PATCH", json={"records": move})
    assert [r["success"] for r in results] == [True, True]
    owners = [sf_org.value("Lead", seeded[f"lead{i}"], "OwnerId") for i in range(2)]
    assert owners == [seeded["rep2"], seeded["rep1"]]


def test_collection_retrieve_by_post(sf: Salesforce, seeded: dict[str, str]) -> None:
    """POST composite/sobjects/Lead with {ids, fields} returns the records in order, null for unknown ids
    (DOCS resources_composite_sobjects_collections_retrieve.htm)."""
    body = {"ids": [seeded["lead1"], "00QSb0000009999AAA"], "fields": ["Id", "Email"]}
    got = sf.restful("composite/sobjects/Lead", method="POST", json=body)
    assert got[0] == {
        "attributes": {"type": "Lead", "url": f"/services/data/v59.0/sobjects/Lead/{seeded['lead1']}"},
        "Id": seeded["lead1"],
        "Email": "lee1@prospect.example",
    }
    assert got[1] is None
