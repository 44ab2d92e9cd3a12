"""The sandbox record store: stamps, soft deletes, indexes, associations, ids and wire values."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.clock import FakeClock
from crmsync.sandbox.org import HUBSPOT_RULES, SALESFORCE_RULES, Org, salesforce_id
from crmsync.sandbox.schema import (
    FieldDef,
    hs_wire,
    hubspot_schemas,
    parse_datetime,
    parse_value,
    salesforce_schemas,
    sf_wire,
)

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


@pytest.fixture
def sf() -> Org:
    return Org(SALESFORCE_RULES, salesforce_schemas(), FakeClock(T0))


@pytest.fixture
def hs() -> Org:
    return Org(HUBSPOT_RULES, hubspot_schemas(), FakeClock(T0))


def test_salesforce_ids_have_prefix_and_case_safe_suffix() -> None:
    """Ids are 18 characters, start with the key prefix, and end with the documented checksum."""
    rid = salesforce_id("00Q", 1)
    assert rid == "00QSb0000000001" + rid[15:]
    assert len(rid) == 18
    # chunk "00QSb": upper-case at positions 2 and 3 -> bits 0b01100 = 12 -> "M"; other chunks all digits -> "A"
    assert rid[15:] == "MAA"


def test_create_stamps_and_update_moves_modstamps(sf: Org) -> None:
    """Create sets CreatedDate/LastModifiedDate/SystemModstamp; a user update moves both modified stamps."""
    lead = sf.create("Lead", {"LastName": "Ng", "Company": "Acme", "Status": "Open - Not Contacted"})
    assert lead["Id"].startswith("00Q")
    assert lead["IsDeleted"] is False
    assert lead["CreatedDate"] == lead["LastModifiedDate"] == lead["SystemModstamp"] == T0
    later = T0 + timedelta(minutes=5)
    updated = sf.update("Lead", lead["Id"], {"Title": "CTO"}, now=later)
    assert (updated["Title"], updated["LastModifiedDate"], updated["SystemModstamp"]) == ("CTO", later, later)
    assert updated["CreatedDate"] == T0


def test_system_update_moves_only_system_modstamp(sf: Org) -> None:
    """An automated change moves SystemModstamp but leaves LastModifiedDate (SF A3)."""
    lead = sf.create("Lead", {"LastName": "Ng", "Company": "Acme"})
    later = T0 + timedelta(hours=1)
    updated = sf.update("Lead", lead["Id"], {"LastActivityDate": date(2026, 3, 2)}, now=later, system=True)
    assert updated["LastModifiedDate"] == T0
    assert updated["SystemModstamp"] == later


def test_delete_is_soft_and_listed(sf: Org) -> None:
    """A deleted record is hidden from reads but kept for queryAll and getDeleted."""
    lead = sf.create("Lead", {"LastName": "Ng", "Company": "Acme"})
    gone_at = T0 + timedelta(minutes=1)
    sf.delete("Lead", lead["Id"], now=gone_at)
    assert sf.get("Lead", lead["Id"]) is None
    kept = sf.get("Lead", lead["Id"], include_deleted=True)
    assert kept is not None
    assert kept["IsDeleted"] is True
    assert kept["SystemModstamp"] == gone_at
    assert sf.rows("Lead") == []
    assert len(sf.rows("Lead", include_deleted=True)) == 1
    assert sf.deleted_between("Lead", T0, T0 + timedelta(hours=1)) == [(lead["Id"], gone_at)]
    with pytest.raises(KeyError):
        sf.update("Lead", lead["Id"], {"Title": "x"})


def test_reads_are_copies(sf: Org) -> None:
    """Mutating a returned record never changes the store."""
    lead = sf.create("Lead", {"LastName": "Ng", "Company": "Acme"})
    lead["Company"] = "Changed"
    assert sf.value("Lead", lead["Id"], "Company") == "Acme"


def test_index_follows_owner_changes(sf: Org) -> None:
    """find() on an indexed field follows updates and hides deleted records unless asked."""
    a = sf.create("Lead", {"LastName": "A", "Company": "X", "OwnerId": "005A"})["Id"]
    b = sf.create("Lead", {"LastName": "B", "Company": "X", "OwnerId": "005A"})["Id"]
    sf.update("Lead", b, {"OwnerId": "005B"})
    sf.delete("Lead", a)
    assert sf.find("Lead", "OwnerId", "005A") == []
    assert sf.find("Lead", "OwnerId", "005A", include_deleted=True) == [a]
    assert sf.find("Lead", "OwnerId", "005B") == [b]


def test_fields_added_later_are_stored(hs: Org) -> None:
    """A property created at run time is stored beside the compact columns and read back."""
    hs.schema("contacts").add_field(FieldDef("favourite_colour", "string"))
    contact = hs.create("contacts", {"email": "a@b.example", "favourite_colour": "teal"})
    assert contact["favourite_colour"] == "teal"
    assert contact["hs_object_id"] == "1001"
    assert contact["createdate"] == contact["lastmodifieddate"] == T0


def test_hubspot_archive_sets_archived_at(hs: Org) -> None:
    """Archiving a HubSpot record keeps it with archivedAt set."""
    cid = hs.create("contacts", {"email": "a@b.example"})["hs_object_id"]
    hs.delete("contacts", cid, now=T0 + timedelta(seconds=3))
    assert hs.rows("contacts", deleted_only=True)[0]["archivedAt"] == T0 + timedelta(seconds=3)


def test_associations_are_kept_both_ways(hs: Org) -> None:
    """An association is readable from both ends with each direction's own type id."""
    hs.associate("emails", "7", "contacts", "1001", 198, 197)
    hs.associate("emails", "7", "contacts", "1001", 198, 197)
    assert hs.associations("emails", "7", "contacts") == [("1001", 198)]
    assert hs.associations("contacts", "1001", "emails") == [("7", 197)]
    hs.dissociate("emails", "7", "contacts", "1001")
    assert hs.associations("contacts", "1001", "emails") == []


def test_modified_between_orders_by_stamp(sf: Org) -> None:
    """modified_between returns ids inside [start, end) ordered by the stamp (getUpdated)."""
    a = sf.create("Lead", {"LastName": "A", "Company": "X"}, now=T0 + timedelta(minutes=2))["Id"]
    b = sf.create("Lead", {"LastName": "B", "Company": "X"}, now=T0 + timedelta(minutes=1))["Id"]
    sf.create("Lead", {"LastName": "C", "Company": "X"}, now=T0 + timedelta(hours=2))
    assert sf.modified_between("Lead", "SystemModstamp", T0, T0 + timedelta(hours=1)) == [b, a]


def test_concurrent_creates_get_unique_ids(sf: Org) -> None:
    """Creates from several threads never share an id."""
    made: list[str] = []

    def work() -> None:
        for _ in range(200):
            made.append(sf.create("Task", {"Subject": "x"})["Id"])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(made)) == 800 == sf.count("Task")


@pytest.mark.parametrize(
    ("ftype", "raw", "expected"),
    [
        ("datetime", "2026-03-02T14:00:00.000+0000", T0),
        ("datetime", "2026-03-02T14:00:00Z", T0),
        ("datetime", "1772460000000", T0),
        ("date", "2026-03-02", date(2026, 3, 2)),
        ("number", "12", 12),
        ("number", "12.5", 12.5),
        ("int", 7.0, 7),
        ("bool", "true", True),
        ("number", "", None),
        ("string", "", ""),
    ],
    ids=["sf-datetime", "iso-z", "epoch-ms", "date", "hs-int", "hs-float", "sf-int", "hs-bool", "hs-clear", "str"],
)
def test_parse_value(ftype: str, raw: object, expected: object) -> None:
    """Wire values of every supported type parse to the store's Python value."""
    assert parse_value(FieldDef("f", ftype), raw) == expected


@pytest.mark.parametrize(
    ("fdef", "raw"),
    [
        (FieldDef("f", "picklist", options=("A",)), "B"),
        (FieldDef("f", "int"), 1.5),
        (FieldDef("f", "boolean"), "yes"),
        (FieldDef("f", "string", length=3), "long"),
        (FieldDef("f", "double"), True),
    ],
    ids=["restricted-picklist", "int-fraction", "bad-bool", "too-long", "bool-as-number"],
)
def test_parse_value_rejects(fdef: FieldDef, raw: object) -> None:
    """Values that do not fit the field raise ValueError."""
    with pytest.raises(ValueError, match=r"."):
        parse_value(fdef, raw)


def test_wire_formats() -> None:
    """Salesforce datetimes carry milliseconds and +0000; HubSpot values are strings."""
    stamp = T0.replace(microsecond=123456)
    assert sf_wire(stamp) == "2026-03-02T14:00:00.123+0000"
    assert sf_wire(date(2026, 3, 2)) == "2026-03-02"
    assert hs_wire(stamp) == "2026-03-02T14:00:00.123Z"
    assert (hs_wire(3.0), hs_wire(False), hs_wire(None)) == ("3", "false", None)
    assert parse_datetime("2026-03-02T15:00:00+01:00") == T0


OWNERS = ["005A", "005B", "00GQ", None]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["create", "update", "delete"]), st.integers(0, 9), st.sampled_from(OWNERS),
                  st.integers(0, 120)),
        max_size=60,
    )
)  # fmt: skip
def test_store_matches_a_plain_model(ops: list[tuple[str, int, str | None, int]]) -> None:
    """Any sequence of writes leaves records, the owner index and the stamp range index agreeing with a dict."""
    org = Org(SALESFORCE_RULES, salesforce_schemas(), FakeClock(T0))
    model: dict[str, dict[str, object]] = {}
    gone: set[str] = set()
    for kind, pick, owner, minute in ops:
        at = T0 + timedelta(minutes=minute)
        live = [rid for rid in model if rid not in gone]
        if kind == "create" or not live:
            rid = org.insert("Lead", {"LastName": "x", "Company": "c", "OwnerId": owner}, now=at)
            model[rid] = {"OwnerId": owner, "SystemModstamp": at}
        elif kind == "update":
            rid = live[pick % len(live)]
            org.patch("Lead", rid, {"OwnerId": owner}, now=at)
            model[rid] = {"OwnerId": owner, "SystemModstamp": at}
        else:
            rid = live[pick % len(live)]
            org.delete("Lead", rid, now=at)
            model[rid]["SystemModstamp"] = at
            gone.add(rid)
    for owner in OWNERS[:3]:
        expected = sorted(r for r, v in model.items() if v["OwnerId"] == owner and r not in gone)
        assert org.find("Lead", "OwnerId", owner) == expected
    window = (T0 + timedelta(minutes=30), T0 + timedelta(minutes=90))
    in_window = [(v["SystemModstamp"], r) for r, v in model.items() if window[0] <= v["SystemModstamp"] <= window[1]]  # type: ignore[operator]
    assert org.scan("Lead", "SystemModstamp", *window, include_deleted=True) == [r for _, r in sorted(in_window)]
    assert {r["Id"] for r in org.rows("Lead")} == set(model) - gone
