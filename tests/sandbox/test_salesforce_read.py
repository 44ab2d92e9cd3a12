"""The sandbox Salesforce server's read endpoints, driven by unmodified simple-salesforce.

Shapes are pinned against the examples of the Salesforce REST API Developer Guide; each test cites its page.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from crmsync.clock import FakeClock
from crmsync.sandbox.org import Org
from crmsync.sandbox.salesforce import SalesforceSandbox

DOCS = "https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/"


def test_query_shape_and_relationship_fields(sf: Salesforce, seeded: dict[str, str]) -> None:
    """Query answers {totalSize, done, records[attributes + fields]} with Owner.Type nested (DOCS dome_query.htm)."""
    result = sf.query("SELECT Id, Email, Owner.Type, Owner.Name FROM Lead WHERE IsConverted = false ORDER BY Email")
    assert set(result) == {"totalSize", "done", "records"}
    assert (result["totalSize"], result["done"]) == (5, True)
    first = result["records"][0]
    assert first["attributes"] == {"type": "Lead", "url": f"/services/data/v59.0/sobjects/Lead/{seeded['lead0']}"}
    assert first["Owner"]["attributes"]["type"] == "Name"
    assert first["Owner"]["Type"] == "User"
    assert first["Owner"]["Name"] == "Ana Rep"
    assert result["records"][4]["Owner"]["Type"] == "Queue"


def test_query_paging_with_batch_size(sf: Salesforce, sf_org: Org) -> None:
    """Past the batch size a page carries nextRecordsUrl; query_all follows it (DOCS headers_queryoptions.htm)."""
    for i in range(450):
        sf_org.create("Task", {"Subject": f"t{i}", "Status": "Completed", "Priority": "Normal"})
    headers = {"Sforce-Query-Options": "batchSize=200"}
    first = sf.query("SELECT Id FROM Task", headers=headers)
    assert (first["totalSize"], first["done"], len(first["records"])) == (450, False, 200)
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    assert first["nextRecordsUrl"].endswith("-200")
    assert len(sf.query_all("SELECT Id FROM Task", headers=headers)["records"]) == 450
    assert len(sf.query("SELECT Id FROM Task")["records"]) == 450


def test_default_batch_is_2000(sf: Salesforce, sf_org: Org) -> None:
    """Without the header a page holds 2,000 rows (DOCS dome_query.htm)."""
    for i in range(2001):
        sf_org.create("Task", {"Subject": f"t{i}", "Status": "Completed", "Priority": "Normal"})
    first = sf.query("SELECT Id FROM Task")
    assert len(first["records"]) == 2000
    assert first["done"] is False
    more = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert (len(more["records"]), more["done"], "nextRecordsUrl" in more) == (1, True, False)


def test_query_all_includes_deleted(sf: Salesforce, seeded: dict[str, str], sf_org: Org) -> None:
    """queryAll returns soft-deleted rows with IsDeleted true; query hides them (DOCS resources_queryall.htm)."""
    sf_org.delete("Lead", seeded["lead1"])
    soql = "SELECT Id, IsDeleted FROM Lead WHERE IsDeleted = true"
    assert sf.query(soql)["totalSize"] == 0
    rows = sf.query_all(soql, include_deleted=True)["records"]
    assert [(r["Id"], r["IsDeleted"]) for r in rows] == [(seeded["lead1"], True)]


def test_datetime_filters_and_wire_format(sf: Salesforce, clock: FakeClock) -> None:
    """Datetime literals filter on SystemModstamp and datetimes come back as ...000+0000 (DOCS dome_query.htm)."""
    since = (clock.now() - timedelta(minutes=58)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = sf.query(f"SELECT Id, SystemModstamp FROM Lead WHERE SystemModstamp >= {since} ORDER BY SystemModstamp")
    stamps = [r["SystemModstamp"] for r in rows["records"]]
    assert stamps == ["2026-03-02T13:02:00.000+0000", "2026-03-02T13:03:00.000+0000", "2026-03-02T13:04:00.000+0000"]


def test_count_query(sf: Salesforce) -> None:
    """SELECT COUNT() answers totalSize with no records."""
    assert sf.query("SELECT COUNT() FROM Lead WHERE Title = 'CTO'") == {"totalSize": 2, "done": True, "records": []}


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Id FROM Lead WHERE", "MALFORMED_QUERY"),
        ("SELECT Nope__c FROM Lead", "INVALID_FIELD"),
        ("SELECT Id FROM Opportunity", "INVALID_TYPE"),
        ("SELECT Id FROM Lead GROUP BY Id", "MALFORMED_QUERY"),
    ],
    ids=["truncated", "unknown-field", "unknown-object", "unsupported-clause"],
)
def test_query_errors_are_400_arrays(sf: Salesforce, soql: str, code: str) -> None:
    """Bad queries give 400 with [{message, errorCode}] (DOCS errorcodes.htm)."""
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query(soql)
    assert err.value.status == 400
    assert err.value.content[0]["errorCode"] == code


def test_released_cursor_is_invalid_query_locator(sf: Salesforce, sf_org: Org) -> None:
    """Opening an 11th cursor releases the oldest, whose locator then fails (crm-api-facts A1)."""
    for i in range(250):
        sf_org.create("Task", {"Subject": f"t{i}", "Status": "Completed", "Priority": "Normal"})
    headers = {"Sforce-Query-Options": "batchSize=200"}
    urls = [sf.query("SELECT Id FROM Task", headers=headers)["nextRecordsUrl"] for _ in range(11)]
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query_more(urls[0], identifier_is_url=True)
    assert err.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"
    assert len(sf.query_more(urls[10], identifier_is_url=True)["records"]) == 50


def test_get_row_and_fields_param(sf: Salesforce, seeded: dict[str, str]) -> None:
    """GET sobjects/Lead/id returns attributes and fields; ?fields= narrows them
    (DOCS resources_sobject_retrieve.htm)."""
    lead = sf.Lead.get(seeded["lead0"])
    assert lead["attributes"]["type"] == "Lead"
    assert (lead["Id"], lead["Email"], lead["IsDeleted"]) == (seeded["lead0"], "lee0@prospect.example", False)
    assert lead["CreatedDate"] == "2026-03-02T13:00:00.000+0000"
    narrow = sf.Lead.get(seeded["lead0"], params={"fields": "Email,Status"})
    assert set(narrow) == {"attributes", "Email", "Status"}


def test_get_missing_and_deleted_rows(sf: Salesforce, seeded: dict[str, str], sf_org: Org) -> None:
    """Unknown ids give 404 NOT_FOUND; deleted ones 404 ENTITY_IS_DELETED (DOCS errorcodes.htm)."""
    with pytest.raises(SalesforceResourceNotFound) as missing:
        sf.Lead.get("00QSb0000009999AAA")
    assert missing.value.content[0]["errorCode"] == "NOT_FOUND"
    sf_org.delete("Lead", seeded["lead2"])
    with pytest.raises(SalesforceResourceNotFound) as gone:
        sf.Lead.get(seeded["lead2"])
    assert gone.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_get_by_external_id(sf: Salesforce, sf_org: Org, seeded: dict[str, str]) -> None:
    """GET sobjects/Task/Crmsync_External_Id__c/value finds the record (DOCS dome_upsert.htm)."""
    task = sf_org.create("Task", {"Subject": "x", "Status": "Completed", "Priority": "Normal",
                                  "Crmsync_External_Id__c": "msg-<a@b>"})  # fmt: skip
    assert sf.Task.get_by_custom_id("Crmsync_External_Id__c", "msg-<a@b>")["Id"] == task["Id"]


def test_updated_and_deleted(sf: Salesforce, sf_org: Org, seeded: dict[str, str], clock: FakeClock) -> None:
    """getUpdated lists ids by SystemModstamp, getDeleted lists deletions (DOCS resources_getupdated.htm,
    resources_getdeleted.htm)."""
    clock.advance(timedelta(minutes=10))
    sf_org.update("Lead", seeded["lead3"], {"Title": "VP"})
    sf_org.delete("Lead", seeded["lead4"])
    clock.advance(timedelta(minutes=5))
    start, end = clock.now() - timedelta(minutes=30), clock.now() + timedelta(minutes=30)
    up = sf.Lead.updated(start, end)
    assert up == {"ids": [seeded["lead3"]], "latestDateCovered": "2026-03-02T14:15:00.000+0000"}
    gone = sf.Lead.deleted(start, end)
    assert gone["deletedRecords"] == [{"id": seeded["lead4"], "deletedDate": "2026-03-02T14:10:00.000+0000"}]
    assert set(gone) == {"deletedRecords", "earliestDateAvailable", "latestDateCovered"}


def test_updated_window_limit(sf: Salesforce, clock: FakeClock) -> None:
    """getUpdated refuses a start more than 30 days back with INVALID_REPLICATION_DATE."""
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Lead.updated(clock.now() - timedelta(days=31), clock.now())
    assert err.value.content[0]["errorCode"] == "INVALID_REPLICATION_DATE"


def test_describe_lists_custom_fields(sf: Salesforce) -> None:
    """Describe returns fields with name/type/custom/updateable/picklistValues (DOCS resources_sobject_describe.htm)."""
    desc = sf.Lead.describe()
    fields = {f["name"]: f for f in desc["fields"]}
    assert desc["name"] == "Lead"
    assert desc["keyPrefix"] == "00Q"
    assert fields["Crmsync_SLA_Due__c"]["type"] == "datetime"
    assert fields["Crmsync_SLA_Due__c"]["custom"] is True
    assert fields["OwnerId"]["referenceTo"] == ["Group", "User"]
    assert "Closed - Not Converted" in [p["value"] for p in fields["Status"]["picklistValues"]]
    assert fields["IsConverted"]["updateable"] is False
    for name in ("Task", "Event", "User", "Group"):
        assert sf.__getattr__(name).describe()["name"] == name
    assert {"Lead", "Task", "Event", "User", "Group"} <= {o["name"] for o in sf.describe()["sobjects"]}


def test_limits_and_limit_header(sf: Salesforce, sandbox: SalesforceSandbox, session: requests.Session) -> None:
    """limits/ reports DailyApiRequests and every answer carries Sforce-Limit-Info (DOCS resources_limits.htm,
    headers_api_usage.htm)."""
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == 100_000
    assert limits["DailyApiRequests"]["Remaining"] == 100_000 - 1
    answer = session.get(
        f"{sandbox.url}/services/data/v59.0/limits/", headers={"Authorization": f"Bearer {sf.session_id}"}
    )
    assert answer.headers["Sforce-Limit-Info"] == "api-usage=2/100000"
    missing = session.get(f"{sandbox.url}/services/data/v59.0/sobjects/Lead/00QSb0000009999AAA",
                          headers={"Authorization": f"Bearer {sf.session_id}"})  # fmt: skip
    assert missing.headers["Sforce-Limit-Info"] == "api-usage=3/100000"
    assert sf.api_usage["api-usage"].used == 1


def test_versions_and_other_api_versions(sandbox: SalesforceSandbox, session: requests.Session) -> None:
    """GET /services/data/ lists versions without auth, and other API versions serve the same resources."""
    versions = session.get(f"{sandbox.url}/services/data/").json()
    assert {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"} in versions
    other = Salesforce(instance_url=sandbox.url, session_id=sandbox.token, session=session, version="62.0")
    assert other.query("SELECT Id FROM Lead LIMIT 1")["records"][0]["attributes"]["url"].startswith(
        "/services/data/v62.0/sobjects/Lead/"
    )


def test_fake_clock_drives_relative_dates(sf: Salesforce, clock: FakeClock, sf_org: Org) -> None:
    """TODAY in a query means the sandbox clock's day, not the wall clock's."""
    clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=UTC))
    sf_org.create("Lead", {"LastName": "New", "Company": "X", "Status": "Open - Not Contacted"})
    assert sf.query("SELECT COUNT() FROM Lead WHERE CreatedDate = TODAY")["totalSize"] == 1


def test_resources_and_sobject_basic_info(sf: Salesforce) -> None:
    """The version root lists resources and sobjects/Lead/ answers objectDescribe + recentItems
    (DOCS resources_discoveryresource.htm, resources_sobject_basic_info.htm)."""
    resources = sf.restful("")
    assert resources["query"] == "/services/data/v59.0/query"
    assert resources["sobjects"] == "/services/data/v59.0/sobjects"
    basic = sf.Lead.metadata()
    assert set(basic) == {"objectDescribe", "recentItems"}
    assert basic["objectDescribe"]["urls"]["rowTemplate"] == "/services/data/v59.0/sobjects/Lead/{ID}"


def test_lead_status_values_are_queryable(sf: Salesforce, sf_org: Org) -> None:
    """LeadStatus rows answer the documented query for valid and converted statuses (crm-api-facts A11)."""
    sf_org.create("LeadStatus", {"ApiName": "Closed - Converted", "MasterLabel": "Closed - Converted",
                                 "IsConverted": True, "IsDefault": False, "SortOrder": 3})  # fmt: skip
    rows = sf.query("SELECT ApiName, IsConverted, IsDefault FROM LeadStatus")["records"]
    assert [(r["ApiName"], r["IsConverted"]) for r in rows] == [("Closed - Converted", True)]
