"""Sandbox HubSpot engagements, associations v4, owners and properties through the unmodified hubspot-api-client.

Pinned against HubSpot's documentation:
- engagements (hs_timestamp required, associations at create, default type ids): notes guide
  https://developers.hubspot.com/docs/api-reference/crm-notes-v3/guide, calls https://developers.hubspot.com/docs/api/crm/calls,
  and the association type table https://developers.hubspot.com/docs/api-reference/latest/crm/associations/overview
- owners: https://developers.hubspot.com/docs/api/crm/owners
- properties: https://developers.hubspot.com/docs/api/crm/properties
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from hubspot.crm.associations.v4 import (
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicFetchAssociationsBatchRequest,
)
from hubspot.crm.objects import calls, emails, meetings, notes, tasks
from hubspot.crm.owners.exceptions import NotFoundException as OwnerNotFound
from hubspot.crm.properties import ApiException as PropertiesApiException
from hubspot.crm.properties import OptionInput, PropertyCreate

from tests.sandbox import hubspot_portal
from tests.sandbox.hubspot_portal import NOW, Portal

make_portal = hubspot_portal.make_portal
portal = hubspot_portal.portal

ENGAGEMENTS: list[tuple[str, Any, int, dict[str, str]]] = [
    ("emails", emails, 198, {"hs_email_subject": "Intro", "hs_email_direction": "EMAIL", "hs_email_text": "Hi"}),
    ("calls", calls, 194, {"hs_call_title": "Discovery", "hs_call_direction": "OUTBOUND", "hs_call_duration": "60000"}),
    ("meetings", meetings, 200, {"hs_meeting_title": "Demo", "hs_meeting_start_time": "2026-03-02T15:00:00Z"}),
    ("notes", notes, 202, {"hs_note_body": "Spoke with the VP"}),
    ("tasks", tasks, 204, {"hs_task_subject": "Call back", "hs_task_status": "NOT_STARTED", "hs_task_type": "CALL"}),
]


def _api(portal: Portal, name: str) -> Any:
    return getattr(portal.client.crm.objects, name)


def _input(module: Any, contact: str, type_id: int, props: dict[str, str], *, batch: bool = False) -> Any:
    spec = module.AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=type_id)
    link = module.PublicAssociationsForObject(to=module.PublicObjectId(id=contact), types=[spec])
    model = module.SimplePublicObjectBatchInputForCreate if batch else module.SimplePublicObjectInputForCreate
    return model(properties=props, associations=[link])


@pytest.mark.parametrize(("name", "module", "type_id", "props"), ENGAGEMENTS, ids=[e[0] for e in ENGAGEMENTS])
def test_engagement_create_associates_to_the_contact(
    portal: Portal, name: str, module: Any, type_id: int, props: dict[str, str]
) -> None:
    """Each engagement type is created with hs_timestamp and its documented type id, and shows under the contact."""
    contact = portal.contacts[0]
    made = _api(portal, name).basic_api.create(
        _input(module, contact, type_id, {"hs_timestamp": "1772456400000", **props})
    )
    assert made.properties["hs_timestamp"] == "2026-03-02T13:00:00.000Z"
    assert {k: made.properties[k] for k in props} == {
        k: ("2026-03-02T15:00:00.000Z" if k == "hs_meeting_start_time" else v) for k, v in props.items()
    }
    v4 = portal.client.crm.associations.v4.basic_api
    forward = v4.get_page(name, made.id, "contacts")
    assert [(r.to_object_id, [t.type_id for t in r.association_types]) for r in forward.results] == [
        (contact, [type_id])
    ]
    back = v4.get_page("contacts", contact, name)
    assert [r.to_object_id for r in back.results] == [made.id]
    assert back.results[0].association_types[0].type_id == type_id - 1


@pytest.mark.parametrize(("name", "module", "type_id", "props"), ENGAGEMENTS, ids=[e[0] for e in ENGAGEMENTS])
def test_engagement_without_hs_timestamp_is_refused(
    portal: Portal, name: str, module: Any, type_id: int, props: dict[str, str]
) -> None:
    """Creating an engagement without hs_timestamp answers 400 with a REQUIRED_FIELD problem and writes nothing."""
    with pytest.raises(module.ApiException) as info:
        _api(portal, name).basic_api.create(_input(module, portal.contacts[0], type_id, props))
    body = json.loads(info.value.body)
    assert (info.value.status, body["category"]) == (400, "VALIDATION_ERROR")
    assert '"error":"REQUIRED_FIELD","name":"hs_timestamp"' in body["message"]
    assert portal.org.count(name) == 0


def test_wrong_association_type_or_target_is_refused(portal: Portal) -> None:
    """A type id not defined from emails (202 is note→contact) or a missing contact answers 400."""
    for contact, type_id in ((portal.contacts[0], 202), ("123456789", 198)):
        with pytest.raises(emails.ApiException) as info:
            portal.client.crm.objects.emails.basic_api.create(
                _input(emails, contact, type_id, {"hs_timestamp": "2026-03-02T13:00:00Z"})
            )
        assert info.value.status == 400


def test_engagement_batch_create_and_search_by_modified_date(portal: Portal) -> None:
    """Batch-created calls are found by a hs_lastmodifieddate window search and not before they existed."""
    later = NOW + timedelta(hours=1)
    portal.clock.set(later)
    props = {"hs_timestamp": "2026-03-02T14:30:00Z"}
    inputs = [_input(calls, portal.contacts[i], 194, {**props, "hs_call_title": f"c{i}"}, batch=True) for i in range(3)]
    batch = calls.BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs)
    made = portal.client.crm.objects.calls.batch_api.create(batch)
    assert made.status == "COMPLETE"
    assert len(made.results) == 3
    since = str(int(later.timestamp() * 1000))
    window = calls.PublicObjectSearchRequest(
        filter_groups=[{"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": since}]}],
        sorts=[{"propertyName": "hs_object_id", "direction": "ASCENDING"}], properties=["hs_call_title"], limit=100,
    )  # fmt: skip
    found = portal.client.crm.objects.calls.search_api.do_search(window)
    assert [r.properties["hs_call_title"] for r in found.results] == ["c0", "c1", "c2"]
    window.filter_groups[0]["filters"][0]["operator"] = "LT"
    assert portal.client.crm.objects.calls.search_api.do_search(window).total == 0


def test_associations_batch_read_with_207_for_unlinked_ids(portal: Portal) -> None:
    """v4 batch read returns the links of linked contacts and a NO_ASSOCIATIONS_FOUND error for the others."""
    note = portal.client.crm.objects.notes.basic_api.create(
        _input(notes, portal.contacts[1], 202, {"hs_timestamp": "2026-03-02T13:00:00Z", "hs_note_body": "n"})
    )
    request = BatchInputPublicFetchAssociationsBatchRequest(
        inputs=[
            PublicFetchAssociationsBatchRequest(id=portal.contacts[1]),
            PublicFetchAssociationsBatchRequest(id=portal.contacts[2]),
        ]
    )
    out = portal.client.crm.associations.v4.batch_api.get_page("contacts", "notes", request)
    assert [(r._from.id, [t.to_object_id for t in r.to]) for r in out.results] == [(portal.contacts[1], [note.id])]
    assert out.errors[0].sub_category == "crm.associations.NO_ASSOCIATIONS_FOUND"
    assert out.errors[0].context == {"fromObjectId": [portal.contacts[2]]}


def test_owners_list_person_and_queue_and_archived(portal: Portal) -> None:
    """Owners lists live PERSON and QUEUE owners; archived=true lists the deactivated rep; email filters."""
    api = portal.client.crm.owners.owners_api
    live = api.get_page(limit=100)
    assert [(o.first_name, o.type, o.archived) for o in live.results] == [
        ("Ann", "PERSON", False), ("Bob", "PERSON", False), ("Holding", "QUEUE", False),
    ]  # fmt: skip
    assert [o.email for o in api.get_page(archived=True).results] == ["carl@org.example"]
    assert [o.id for o in api.get_page(email="BOB@org.example").results] == [portal.owners["bob"]]
    paged = api.get_page(limit=2)
    assert paged.paging.next.after == portal.owners["holding"]
    assert api.get_by_id(5001, id_property="userId").id == portal.owners["ann"]
    with pytest.raises(OwnerNotFound):
        api.get_by_id(int(portal.owners["carl"]))


def test_owner_wire_shape(portal: Portal) -> None:
    """A raw owner has the documented PublicOwner keys."""
    owner = portal.raw("GET", "/crm/v3/owners/").json()["results"][0]
    assert set(owner) == {"id", "email", "firstName", "lastName", "userId", "userIdIncludingInactive", "createdAt",
                          "updatedAt", "archived", "teams", "type"}  # fmt: skip


def test_properties_read_and_create_custom(portal: Portal) -> None:
    """Properties lists the schema with enum options; a created custom property is then writable on contacts."""
    core = portal.client.crm.properties.core_api
    names = {p.name: p for p in core.get_all("contacts").results}
    assert [o.value for o in names["hs_lead_status"].options][:3] == ["NEW", "OPEN", "IN_PROGRESS"]
    assert names["crmsync_status"].hubspot_defined is False
    assert names["email"].has_unique_value is True
    created = core.create("contacts", PropertyCreate(
        name="crmsync_tier", label="Tier", type="enumeration", field_type="select", group_name="contactinformation",
        options=[OptionInput(label="A", value="a", display_order=0, hidden=False),
                 OptionInput(label="B", value="b", display_order=1, hidden=False)],
    ))  # fmt: skip
    assert (created.name, created.type, [o.value for o in created.options]) == (
        "crmsync_tier",
        "enumeration",
        ["a", "b"],
    )
    assert core.get_by_name("contacts", "crmsync_tier").label == "Tier"
    contact = portal.client.crm.contacts.basic_api.update(portal.contacts[0], {"properties": {"crmsync_tier": "b"}})
    assert contact.properties["crmsync_tier"] == "b"
    with pytest.raises(PropertiesApiException) as info:
        core.create("contacts", PropertyCreate(name="crmsync_tier", label="T", type="string", field_type="text",
                                               group_name="contactinformation"))  # fmt: skip
    assert info.value.status == 409


def test_property_definition_errors(portal: Portal) -> None:
    """An enumeration without options or an unknown object type answers 400."""
    bad = {"name": "x", "label": "X", "type": "enumeration", "fieldType": "select", "groupName": "g"}
    resp = portal.raw("POST", "/crm/v3/properties/contacts", json=bad)
    assert resp.status_code == 400
    assert "needs options" in resp.json()["message"]
    assert portal.raw("GET", "/crm/v3/properties/widgets").status_code == 400
    assert portal.raw("GET", "/crm/v3/properties/0-1/email").json()["name"] == "email"


def test_engagement_read_update_archive_round_trip(portal: Portal) -> None:
    """A task can be read, updated (hs_lastmodifieddate moves), listed, archived and listed as archived."""
    api = portal.client.crm.objects.tasks.basic_api
    made = api.create(_input(tasks, portal.contacts[0], 204, {"hs_timestamp": "2026-03-02T13:00:00Z",
                                                             "hs_task_subject": "Call back"}))  # fmt: skip
    portal.clock.advance(timedelta(minutes=5))
    done = api.update(made.id, tasks.SimplePublicObjectInput(properties={"hs_task_status": "COMPLETED"}))
    assert done.properties["hs_task_status"] == "COMPLETED"
    assert done.properties["hs_lastmodifieddate"] == "2026-03-02T14:05:00.000Z"
    read = api.get_by_id(made.id, properties=["hs_task_subject", "hs_task_status"], associations=["contacts"])
    assert read.properties == {"hs_task_subject": "Call back", "hs_task_status": "COMPLETED"}
    assert [a.id for a in read.associations["contacts"].results] == [portal.contacts[0]]
    assert [t.id for t in api.get_page().results] == [made.id]
    api.archive(made.id)
    assert api.get_page().results == []
    assert [t.id for t in api.get_page(archived=True).results] == [made.id]


def test_association_labels_create_default_create_and_archive(portal: Portal) -> None:
    """Labels list the default type id; default and typed PUTs link both ways; DELETE unlinks."""
    from hubspot.crm.associations.v4 import AssociationSpec

    v4 = portal.client.crm.associations.v4
    labels = v4.schema.definitions_api.get_all("emails", "contacts")
    assert [(t.category, t.type_id, t.label) for t in labels.results] == [("HUBSPOT_DEFINED", 198, None)]
    email = portal.client.crm.objects.emails.basic_api.create(
        emails.SimplePublicObjectInputForCreate(properties={"hs_timestamp": "2026-03-02T13:00:00Z"})
    )
    made = v4.basic_api.create_default("emails", email.id, "contacts", portal.contacts[0])
    assert [(r._from.id, r.to.id, r.association_spec.association_type_id) for r in made.results] == [
        (email.id, portal.contacts[0], 198), (portal.contacts[0], email.id, 197),
    ]  # fmt: skip
    spec = [AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=198)]
    pair = v4.basic_api.create("emails", email.id, "contacts", portal.contacts[1], spec)
    assert (pair.from_object_type_id, pair.to_object_type_id, pair.to_object_id) == ("0-49", "0-1", portal.contacts[1])
    linked = v4.basic_api.get_page("emails", email.id, "contacts")
    assert [r.to_object_id for r in linked.results] == [portal.contacts[0], portal.contacts[1]]
    v4.basic_api.archive("emails", email.id, "contacts", portal.contacts[0])
    assert [r.to_object_id for r in v4.basic_api.get_page("emails", email.id, "contacts").results] == [
        portal.contacts[1]
    ]
    assert v4.basic_api.get_page("contacts", portal.contacts[0], "emails").results == []
