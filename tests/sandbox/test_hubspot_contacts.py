"""The sandbox HubSpot contacts endpoints through the unmodified hubspot-api-client (client_side_validation=True).

Shapes pinned against HubSpot's documentation:
- contacts guide and legacy v3 reference: https://developers.hubspot.com/docs/api/crm/contacts
- search: https://developers.hubspot.com/docs/api-reference/2026-03/crm/search-the-crm
- batch create / multi-status: https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/objects/batch/create-objects
  and https://developers.hubspot.com/docs/api-reference/error-handling
"""

from __future__ import annotations

import json

import pytest
from hubspot.crm.contacts import (
    ApiException,
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    BatchResponseSimplePublicObject,
    BatchResponseSimplePublicObjectWithErrors,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.contacts.exceptions import NotFoundException

from tests.sandbox import hubspot_portal
from tests.sandbox.hubspot_portal import NOW, Portal, PortalFactory

make_portal = hubspot_portal.make_portal
portal = hubspot_portal.portal

DOC_OBJECT_KEYS = {"id", "properties", "createdAt", "updatedAt", "archived"}


def test_list_pages_with_after_cursor_and_string_properties(portal: Portal) -> None:
    """get_page walks all contacts through paging.next.after, every property value arriving as a string."""
    api = portal.client.crm.contacts.basic_api
    seen, after = [], None
    while True:
        page = api.get_page(limit=5, after=after, properties=["email", "crmsync_reassignments"])
        seen += [c.id for c in page.results]
        assert all(isinstance(v, str) for c in page.results for v in c.properties.values())
        if page.paging is None:
            break
        after = page.paging.next.after
    assert seen == portal.contacts
    assert [c.id for c in portal.client.crm.contacts.get_all()] == portal.contacts


def test_list_caps_the_page_at_100_and_pins_the_documented_shape(make_portal: PortalFactory) -> None:
    """A list page holds at most 100 records; results carry id/properties/createdAt/updatedAt/archived."""
    big = make_portal(contacts=130)
    body = big.raw("GET", "/crm/v3/objects/contacts", params={"limit": 500}).json()
    assert len(body["results"]) == 100
    assert body["paging"]["next"] == {"after": big.contacts[100], "link": f"?after={big.contacts[100]}"}
    assert set(body["results"][0]) == DOC_OBJECT_KEYS
    assert set(body["results"][0]["properties"]) == {"createdate", "email", "firstname", "hs_object_id",
                                                     "lastmodifieddate", "lastname"}  # fmt: skip


def test_archived_list_and_get_show_only_archived_contacts(portal: Portal) -> None:
    """After an archive, archived=true lists just that contact (with archivedAt) and the live list drops it."""
    api = portal.client.crm.contacts.basic_api
    api.archive(portal.contacts[0])
    archived = api.get_page(archived=True)
    assert [c.id for c in archived.results] == [portal.contacts[0]]
    assert archived.results[0].archived is True
    assert archived.results[0].archived_at is not None
    assert portal.contacts[0] not in [c.id for c in api.get_page(limit=100).results]
    with pytest.raises(NotFoundException):
        api.get_by_id(portal.contacts[0])
    assert api.get_by_id(portal.contacts[0], archived=True).archived is True


def test_get_by_id_and_by_email_id_property(portal: Portal) -> None:
    """A contact is found by id and by its unique email (idProperty=email), case-insensitively."""
    api = portal.client.crm.contacts.basic_api
    by_id = api.get_by_id(portal.contacts[3], properties=["company", "hubspot_owner_id"])
    assert by_id.properties == {"company": "Company 3", "hubspot_owner_id": portal.owners["holding"]}
    by_email = api.get_by_id("LEAD3@prospect0.example", id_property="email")
    assert by_email.id == portal.contacts[3]


def test_missing_contact_is_404_with_error_body(portal: Portal) -> None:
    """An unknown id raises NotFoundException whose body has status/message/correlationId/category."""
    with pytest.raises(NotFoundException) as info:
        portal.client.crm.contacts.basic_api.get_by_id("999999")
    body = json.loads(info.value.body)
    assert body["status"] == "error"
    assert body["category"] == "OBJECT_NOT_FOUND"
    assert set(body) >= {"status", "message", "correlationId", "category"}


def test_create_update_and_duplicate_email(portal: Portal) -> None:
    """Create answers 201 with lower-cased email; update moves lastmodifieddate; a taken email is 409 CONFLICT."""
    api = portal.client.crm.contacts.basic_api
    made = api.create(SimplePublicObjectInputForCreate(properties={"email": "New@Prospect.example", "firstname": "N"}))
    assert made.properties["email"] == "new@prospect.example"
    portal.clock.advance(NOW - NOW.replace(hour=13))
    updated = api.update(made.id, SimplePublicObjectInput(properties={"hs_lead_status": "IN_PROGRESS"}))
    assert updated.properties["hs_lead_status"] == "IN_PROGRESS"
    assert updated.updated_at > made.updated_at
    with pytest.raises(ApiException) as info:
        api.create(SimplePublicObjectInputForCreate(properties={"email": "new@prospect.example"}))
    assert info.value.status == 409
    assert json.loads(info.value.body)["message"] == f"Contact already exists. Existing ID: {made.id}"


BAD_PROPERTIES = [
    ({"nosuchprop": "x"}, "PROPERTY_DOESNT_EXIST"),
    ({"hs_lead_status": "MAYBE"}, "INVALID_OPTION"),
    ({"hs_object_id": "5"}, "READ_ONLY_VALUE"),
    ({"hubspot_owner_id": "424242"}, "INVALID_OPTION"),
    ({"crmsync_sla_due": "next tuesday"}, "INVALID_DATETIME"),
]


@pytest.mark.parametrize(
    ("properties", "code"), BAD_PROPERTIES, ids=[c for _, c in BAD_PROPERTIES[:3]] + ["owner", "date"]
)
def test_invalid_property_values_are_400_validation_errors(
    portal: Portal, properties: dict[str, str], code: str
) -> None:
    """Each invalid input property gives 400 VALIDATION_ERROR naming HubSpot's problem code."""
    with pytest.raises(ApiException) as info:
        portal.client.crm.contacts.basic_api.update(portal.contacts[0], SimplePublicObjectInput(properties=properties))
    body = json.loads(info.value.body)
    assert (info.value.status, body["category"]) == (400, "VALIDATION_ERROR")
    problems = json.loads(body["message"].removeprefix("Property values were not valid: "))
    assert [p["error"] for p in problems] == [code]


def _search(portal: Portal, groups: list[dict[str, object]], **kw: object) -> list[str]:
    request = PublicObjectSearchRequest(filter_groups=groups, limit=kw.pop("limit", 200), **kw)
    return [c.id for c in portal.client.crm.contacts.search_api.do_search(request).results]


def _f(prop: str, op: str, value: object = None, **kw: object) -> dict[str, object]:
    return {"propertyName": prop, "operator": op, **({"value": value} if value is not None else {}), **kw}


SEARCHES = [
    ("eq-case-insensitive", [{"filters": [_f("email", "EQ", "LEAD5@prospect2.example")]}], [5]),
    ("neq", [{"filters": [_f("hs_lead_status", "NEQ", "NEW")]}], [0, 3, 6, 9]),
    ("in", [{"filters": [_f("crmsync_reassignments", "IN", values=["0", "4"])]}], [0, 4, 5, 9, 10]),
    ("not-in", [{"filters": [_f("hs_lead_status", "NOT_IN", values=["new"])]}], [0, 3, 6, 9]),
    ("gt-number", [{"filters": [_f("crmsync_reassignments", "GT", "3")]}], [4, 9]),
    ("between-epoch-ms", [{"filters": [_f("createdate", "BETWEEN", str(int(NOW.timestamp() * 1000) - 7_200_000),
                                          highValue=str(int(NOW.timestamp() * 1000) - 7_080_000))]}], [0, 1, 2]),
    ("gte-iso", [{"filters": [_f("lastmodifieddate", "GTE", "2026-03-02T12:10:00Z")]}], [10, 11]),
    ("has-property", [{"filters": [_f("crmsync_status", "HAS_PROPERTY")]}], []),
    ("not-has-property", [{"filters": [_f("crmsync_status", "NOT_HAS_PROPERTY"), _f("company", "EQ", "acme corp")]}],
     [0, 4, 8]),
    ("contains-token", [{"filters": [_f("company", "CONTAINS_TOKEN", "acme")]}], [0, 4, 8]),
    ("contains-token-wildcard", [{"filters": [_f("email", "CONTAINS_TOKEN", "*@prospect1.example")]}], [1, 4, 7, 10]),
    ("groups-are-ored", [{"filters": [_f("email", "EQ", "lead1@prospect1.example")]},
                         {"filters": [_f("email", "EQ", "lead2@prospect2.example")]}], [1, 2]),
]  # fmt: skip


@pytest.mark.parametrize(("groups", "expected"), [s[1:] for s in SEARCHES], ids=[s[0] for s in SEARCHES])
def test_search_operators(portal: Portal, groups: list[dict[str, object]], expected: list[int]) -> None:
    """Each filter operator selects exactly the expected contacts (groups ORed, filters ANDed)."""
    assert _search(portal, groups) == [portal.contacts[i] for i in expected]


def test_search_sorts_pages_by_offset_and_reports_total(portal: Portal) -> None:
    """Sorting DESC on a property orders results; after is a numeric offset; total counts every match."""
    api = portal.client.crm.contacts.search_api
    request = PublicObjectSearchRequest(
        sorts=[{"propertyName": "createdate", "direction": "DESCENDING"}], properties=["email"], limit=5
    )
    first = api.do_search(request)
    assert (first.total, first.paging.next.after) == (12, "5")
    assert [c.id for c in first.results] == portal.contacts[::-1][:5]
    assert set(first.results[0].properties) == {"email"}
    request.after = "10"
    last = api.do_search(request)
    assert [c.id for c in last.results] == portal.contacts[1::-1]
    assert last.paging is None


def test_search_refuses_paging_past_10000(make_portal: PortalFactory) -> None:
    """With more than 10,000 matches the page at 9,800 points to after=10000, which answers 400."""
    big = make_portal(contacts=10_050)
    api = big.client.crm.contacts.search_api
    page = api.do_search(PublicObjectSearchRequest(limit=200, after="9800"))
    assert (page.total, page.paging.next.after, len(page.results)) == (10_050, "10000", 200)
    with pytest.raises(ApiException) as info:
        api.do_search(PublicObjectSearchRequest(limit=200, after="10000"))
    body = json.loads(info.value.body)
    assert (info.value.status, body["status"], body["category"]) == (400, "error", "VALIDATION_ERROR")
    assert "10000" in body["message"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"limit": 201}, "limit must be between 1 and 200"),
        ({"filterGroups": [{"filters": [_f("email", "LIKE", "x")]}]}, "Unknown filter operator LIKE"),
        ({"filterGroups": [{"filters": [_f("no_such", "EQ", "x")]}]}, 'Property "no_such" does not exist'),
        ({"filterGroups": [{"filters": [_f("email", "HAS_PROPERTY")]}] * 6}, "at most 5 filterGroups"),
    ],
    ids=["limit", "operator", "property", "groups"],
)
def test_bad_search_bodies_are_400(portal: Portal, body: dict[str, object], fragment: str) -> None:
    """Search bodies beyond the documented limits or with unknown names answer 400 VALIDATION_ERROR."""
    resp = portal.raw("POST", "/crm/v3/objects/contacts/search", json=body)
    assert resp.status_code == 400
    assert fragment in resp.json()["message"]


def test_batch_read_reports_unknown_ids_as_207(portal: Portal) -> None:
    """Batch read of known and unknown ids returns the known ones and one OBJECT_NOT_FOUND error listing the rest."""
    api = portal.client.crm.contacts.batch_api
    ids = [SimplePublicObjectId(id=portal.contacts[0]), SimplePublicObjectId(id="777")]
    out = api.read(BatchReadInputSimplePublicObjectId(inputs=ids, properties=["email"], properties_with_history=[]))
    assert isinstance(out, BatchResponseSimplePublicObjectWithErrors)
    assert [r.id for r in out.results] == [portal.contacts[0]]
    assert (out.num_errors, out.errors[0].category, out.errors[0].context) == (1, "OBJECT_NOT_FOUND", {"ids": ["777"]})
    good = api.read(
        BatchReadInputSimplePublicObjectId(inputs=ids[:1], properties=["email"], properties_with_history=[])
    )
    assert isinstance(good, BatchResponseSimplePublicObject)
    assert good.status == "COMPLETE"


def test_batch_create_with_trace_ids_is_207_multi_status(portal: Portal) -> None:
    """Inputs carrying objectWriteTraceId are written one by one: good ones created, bad ones in errors (207)."""
    inputs = [
        SimplePublicObjectBatchInputForCreate(properties={"email": "a@new.example"}, object_write_trace_id="t1"),
        SimplePublicObjectBatchInputForCreate(
            properties={"email": "lead0@prospect0.example"}, object_write_trace_id="t2"
        ),
        SimplePublicObjectBatchInputForCreate(properties={"hs_lead_status": "NOPE"}, object_write_trace_id="t3"),
    ]
    out = portal.client.crm.contacts.batch_api.create(BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs))
    assert isinstance(out, BatchResponseSimplePublicObjectWithErrors)
    assert [r.properties["email"] for r in out.results] == ["a@new.example"]
    assert [(e.category, e.context) for e in out.errors] == [
        ("CONFLICT", {"objectWriteTraceId": ["t2"]}), ("VALIDATION_ERROR", {"objectWriteTraceId": ["t3"]}),
    ]  # fmt: skip


def test_batch_create_without_trace_ids_is_all_or_nothing(portal: Portal) -> None:
    """Without trace ids one bad input fails the whole batch with 400 and nothing is created."""
    before = portal.org.count("contacts")
    inputs = [SimplePublicObjectBatchInputForCreate(properties={"email": "x@new.example"}),
              SimplePublicObjectBatchInputForCreate(properties={"nosuch": "1"})]  # fmt: skip
    with pytest.raises(ApiException) as info:
        portal.client.crm.contacts.batch_api.create(BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs))
    assert info.value.status == 400
    assert portal.org.count("contacts") == before
    ok = portal.client.crm.contacts.batch_api.create(BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs[:1]))
    assert isinstance(ok, BatchResponseSimplePublicObject)
    assert len(ok.results) == 1


def test_batch_create_wire_shape_matches_the_documented_example(portal: Portal) -> None:
    """The raw 207 body has exactly the documented top-level keys and StandardError entries."""
    body = {"inputs": [{"properties": {"email": "z@new.example"}, "objectWriteTraceId": "a"},
                       {"properties": {"nosuch": "1"}, "objectWriteTraceId": "b"}]}  # fmt: skip
    resp = portal.raw("POST", "/crm/v3/objects/contacts/batch/create", json=body)
    assert resp.status_code == 207
    out = resp.json()
    assert set(out) <= {"completedAt", "results", "startedAt", "status", "errors", "links", "numErrors", "requestedAt"}
    assert {"completedAt", "results", "startedAt", "status", "errors", "numErrors"} <= set(out)
    assert set(out["errors"][0]) >= {"category", "context", "errors", "links", "message", "status"}
    assert set(out["results"][0]) >= DOC_OBJECT_KEYS


def test_batch_update_and_upsert(portal: Portal) -> None:
    """Batch update changes owners (207 for an unknown id); upsert by email updates one and creates one."""
    holding = portal.owners["holding"]
    inputs = [SimplePublicObjectBatchInput(id=portal.contacts[0], properties={"hubspot_owner_id": holding}),
              SimplePublicObjectBatchInput(id="8888", properties={"hubspot_owner_id": holding})]  # fmt: skip
    out = portal.client.crm.contacts.batch_api.update(BatchInputSimplePublicObjectBatchInput(inputs=inputs))
    assert [r.properties["hubspot_owner_id"] for r in out.results] == [holding]
    assert out.errors[0].context == {"ids": ["8888"]}
    upserts = [
        SimplePublicObjectBatchInputUpsert(
            id="lead1@prospect1.example", id_property="email", properties={"firstname": "U"}
        ),
        SimplePublicObjectBatchInputUpsert(id="fresh@new.example", id_property="email", properties={"firstname": "F"}),
    ]
    done = portal.client.crm.contacts.batch_api.upsert(BatchInputSimplePublicObjectBatchInputUpsert(inputs=upserts))
    assert [(r.new, r.properties["firstname"]) for r in done.results] == [(False, "U"), (True, "F")]
    assert done.results[0].id == portal.contacts[1]


def test_batch_limits_and_archive(portal: Portal) -> None:
    """More than 100 inputs is a 400; batch archive answers 204 and hides the records from reads."""
    too_many = [SimplePublicObjectId(id=str(i)) for i in range(101)]
    request = BatchReadInputSimplePublicObjectId(inputs=too_many, properties=[], properties_with_history=[])
    with pytest.raises(ApiException) as info:
        portal.client.crm.contacts.batch_api.read(request)
    assert info.value.status == 400
    archive = BatchInputSimplePublicObjectId(inputs=[SimplePublicObjectId(id=portal.contacts[2])])
    portal.client.crm.contacts.batch_api.archive(archive)
    assert portal.org.is_deleted("contacts", portal.contacts[2])


def test_batch_update_with_one_invalid_value_writes_nothing(portal: Portal) -> None:
    """One invalid property in a batch update fails the whole batch with 400 before any record changes."""
    inputs = [{"id": portal.contacts[0], "properties": {"firstname": "Changed"}},
              {"id": portal.contacts[1], "properties": {"hs_lead_status": "NOT_A_STATUS"}}]  # fmt: skip
    resp = portal.raw("POST", "/crm/v3/objects/contacts/batch/update", json={"inputs": inputs})
    assert resp.status_code == 400
    assert portal.org.value("contacts", portal.contacts[0], "firstname") == "First0"


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/crm/v3/objects/contacts/batch/read", b"{not json"),
        ("/crm/v3/objects/contacts/batch/update", b'{"inputs": ["1001"]}'),
        ("/crm/v3/objects/contacts/search", b"[1, 2]"),
        ("/crm/v3/objects/contacts", b'{"properties": ["email"]}'),
    ],
    ids=["not-json", "input-not-object", "search-not-object", "properties-not-object"],
)
def test_malformed_bodies_are_400_not_500(portal: Portal, path: str, payload: bytes) -> None:
    """Bodies that are not JSON or have the wrong shape answer 400 VALIDATION_ERROR, never a server error."""
    resp = portal.raw("POST", path, data=payload, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    assert resp.json()["category"] == "VALIDATION_ERROR"


def test_keyset_window_search_walks_every_contact_once(portal: Portal) -> None:
    """The incremental pattern (modified window AND hs_object_id > last id, sorted by id) visits each contact once."""
    api = portal.client.crm.contacts.search_api
    seen: list[str] = []
    last = "0"
    while True:
        filters = [
            {
                "propertyName": "lastmodifieddate",
                "operator": "GTE",
                "value": str(int(NOW.timestamp() * 1000) - 7_200_000),
            },
            {"propertyName": "lastmodifieddate", "operator": "LTE", "value": str(int(NOW.timestamp() * 1000))},
            {"propertyName": "hs_object_id", "operator": "GT", "value": last},
        ]
        request = PublicObjectSearchRequest(
            filter_groups=[{"filters": filters}], sorts=[{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
            properties=["lastmodifieddate"], limit=5,
        )  # fmt: skip
        page = api.do_search(request)
        if not page.results:
            break
        seen += [c.id for c in page.results]
        last = page.results[-1].id
    assert seen == portal.contacts


def test_json_numbers_are_accepted_as_property_text(portal: Portal) -> None:
    """A PATCH sending numbers instead of strings is read as their text, and comes back as strings."""
    owner = int(portal.owners["bob"])
    resp = portal.raw(
        "PATCH",
        f"/crm/v3/objects/contacts/{portal.contacts[0]}",
        json={"properties": {"hubspot_owner_id": owner, "crmsync_reassignments": 3}},
    )
    assert resp.status_code == 200
    props = resp.json()["properties"]
    assert (props["hubspot_owner_id"], props["crmsync_reassignments"]) == (str(owner), "3")
    assert portal.org.find("contacts", "hubspot_owner_id", str(owner)) == [portal.contacts[0]]


@pytest.mark.parametrize(
    ("method", "path", "kw"),
    [
        ("GET", "/crm/v3/objects/contacts", {"params": {"limit": "ten"}}),
        ("GET", "/crm/v3/owners/", {"params": {"after": "x"}}),
        ("PATCH", "/crm/v3/objects/contacts/1001", {"json": ["not", "an", "object"]}),
    ],
    ids=["list-limit", "owners-after", "patch-list-body"],
)
def test_bad_parameters_are_400_not_500(portal: Portal, method: str, path: str, kw: dict[str, object]) -> None:
    """Non-integer paging parameters and a non-object PATCH body answer 400 VALIDATION_ERROR."""
    resp = portal.raw(method, path, **kw)
    assert (resp.status_code, resp.json()["category"]) == (400, "VALIDATION_ERROR")
