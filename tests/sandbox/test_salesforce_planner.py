"""The Salesforce query planner: index-narrowed candidates never change a query's answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.clock import FakeClock
from crmsync.sandbox import soql
from crmsync.sandbox.org import SALESFORCE_RULES, Org
from crmsync.sandbox.schema import salesforce_schemas
from crmsync.sandbox.sf_read import candidates

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def _org() -> Org:
    """60 leads written out of time order, a third of them updated later, some deleted."""
    org = Org(SALESFORCE_RULES, salesforce_schemas(), FakeClock(T0))
    owners = ["005Sb0000000001IAA", "005Sb0000000002IAA", "00GSb0000000001MAA"]
    for i in range(60):
        at = T0 + timedelta(minutes=(i * 37) % 60)
        org.create("Lead", {"LastName": f"L{i}", "Company": "X", "OwnerId": owners[i % 3]}, now=at)
    for i, rid in enumerate(org.ids("Lead")):
        if i % 3 == 0:
            org.update("Lead", rid, {"Title": "VP"}, now=T0 + timedelta(minutes=70 + i))
        if i % 11 == 0:
            org.delete("Lead", rid, now=T0 + timedelta(minutes=90))
    return org


ORG = _org()
TYPES = {name: f.type for name, f in ORG.schema("Lead").fields.items()}


def _answer(text: str, rows: list[dict[str, object]]) -> list[object]:
    result = soql.execute(soql.parse(text), rows, sobject="Lead", now=T0, fields=TYPES)
    return sorted(str(r["Id"]) for r in result.rows)


def _stamp(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


@settings(max_examples=60, deadline=None)
@given(
    low=st.integers(-5, 140),
    span=st.integers(0, 80),
    ops=st.sampled_from([(">=", "<"), (">", "<="), (">=", "<=")]),
    extra=st.sampled_from(["", " AND Title = 'VP'", " AND OwnerId = '00GSb0000000001MAA'", " AND IsDeleted = true"]),
    deleted=st.booleans(),
)
def test_range_candidates_give_the_full_scan_answer(
    low: int, span: int, ops: tuple[str, str], extra: str, deleted: bool
) -> None:
    """A SystemModstamp window (plus other terms) answers exactly as a scan of every row would."""
    text = (
        f"SELECT Id FROM Lead WHERE SystemModstamp {ops[0]} {_stamp(low)} "
        f"AND SystemModstamp {ops[1]} {_stamp(low + span)}{extra}"
    )
    narrowed = candidates(ORG, ORG.schema("Lead"), soql.parse(text).where, include_deleted=deleted)
    assert _answer(text, narrowed) == _answer(text, ORG.rows("Lead", include_deleted=deleted))


@pytest.mark.parametrize(
    "where",
    [
        "Id = '{a}'",
        "Id IN ('{a}', '{b}', '00QSb0000009999AAA')",
        "OwnerId = '00GSb0000000001MAA'",
        "OwnerId IN ('005Sb0000000001IAA', '005Sb0000000002IAA') AND Title = 'VP'",
        "OwnerId = '005Sb0000000001IAA' OR Title = 'VP'",
        "NOT OwnerId = '005Sb0000000001IAA'",
        "LastName LIKE 'L1%'",
    ],
    ids=["id-eq", "id-in", "owner-eq", "owner-in-and", "or-falls-back", "not-falls-back", "unindexed"],
)
def test_key_candidates_give_the_full_scan_answer(where: str) -> None:
    """Id and OwnerId lookups (and conditions the planner cannot use) answer as a full scan would."""
    ids = ORG.ids("Lead")
    text = "SELECT Id FROM Lead WHERE " + where.format(a=ids[1], b=ids[22])
    for deleted in (False, True):
        narrowed = candidates(ORG, ORG.schema("Lead"), soql.parse(text).where, include_deleted=deleted)
        assert _answer(text, narrowed) == _answer(text, ORG.rows("Lead", include_deleted=deleted))


def test_scan_follows_updates_and_rebuilds() -> None:
    """Range scans see a record only at its current stamp, in stamp order, across index rebuilds."""
    org = Org(SALESFORCE_RULES, salesforce_schemas(), FakeClock(T0))
    a = org.create("Lead", {"LastName": "A", "Company": "X"}, now=T0 + timedelta(minutes=5))["Id"]
    b = org.create("Lead", {"LastName": "B", "Company": "X"}, now=T0 + timedelta(minutes=1))["Id"]
    for n in range(3000):
        org.update("Lead", a, {"Title": str(n)}, now=T0 + timedelta(minutes=10 + n))
    assert org.scan("Lead", "SystemModstamp") == [b, a]
    assert org.scan("Lead", "SystemModstamp", T0, T0 + timedelta(minutes=30)) == [b]
    assert org.scan("Lead", "SystemModstamp", T0 + timedelta(minutes=3009)) == [a]
