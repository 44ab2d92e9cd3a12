"""The HubSpot search body compiler on its own: filters against a reference, free-text query, sort order.

Semantics per https://developers.hubspot.com/docs/api-reference/2026-03/crm/search-the-crm (groups ORed,
filters ANDed, text compared case-insensitively, dates as epoch milliseconds).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.clock import FakeClock
from crmsync.sandbox.hubspot_search import parse_search, scan, sort_records
from crmsync.sandbox.org import HUBSPOT_RULES, Org
from crmsync.sandbox.schema import HS_LEAD_STATUSES, hubspot_schemas

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def _org() -> Org:
    org = Org(HUBSPOT_RULES, hubspot_schemas(), FakeClock(NOW))
    for n in range(40):
        values = {
            "email": f"p{n}@{'acme' if n % 3 else 'globex'}.example",
            "firstname": f"Ann Marie {n}" if n % 5 == 0 else f"Bob {n}",
            "hs_lead_status": HS_LEAD_STATUSES[n % 4] if n % 7 else None,
            "crmsync_reassignments": n % 6 if n % 4 else None,
        }
        org.create("contacts", values, now=NOW - timedelta(hours=n))
    return org


ORG = _org()
SCHEMA = ORG.schema("contacts")
ROWS = ORG.rows("contacts")


def _ids(body: dict[str, Any]) -> list[str]:
    spec = parse_search(body, SCHEMA)
    found = scan(ORG, "contacts", spec.predicate)
    sort_records(found, spec.sort_keys, SCHEMA)
    return [view.record_id for view in found]


def _reference(prop: str, op: str, value: Any) -> list[str]:
    """What the filter should select, computed directly from the stored rows."""
    out = []
    for row in ROWS:
        have = row.get(prop)
        if isinstance(value, str) and isinstance(have, str):
            have, value_cmp = have.lower(), value.lower()
        else:
            value_cmp = value
        tests = {
            "EQ": lambda h, v: h == v,
            "NEQ": lambda h, v: h != v,
            "LT": lambda h, v: h < v,
            "GTE": lambda h, v: h >= v,
            "HAS_PROPERTY": lambda h, v: True,
            "NOT_HAS_PROPERTY": lambda h, v: False,
        }
        hit = (op in ("NEQ", "NOT_HAS_PROPERTY")) if have is None else tests[op](have, value_cmp)
        if hit:
            out.append(str(row["hs_object_id"]))
    return out


FILTERS = st.one_of(
    st.tuples(st.just("crmsync_reassignments"), st.sampled_from(["EQ", "NEQ", "LT", "GTE"]), st.integers(-1, 6)),
    st.tuples(st.just("hs_lead_status"), st.sampled_from(["EQ", "NEQ"]), st.sampled_from(HS_LEAD_STATUSES[:5])),
    st.tuples(st.sampled_from(["hs_lead_status", "crmsync_reassignments"]),
              st.sampled_from(["HAS_PROPERTY", "NOT_HAS_PROPERTY"]), st.none()),
)  # fmt: skip


@settings(max_examples=120, deadline=None)
@given(FILTERS)
def test_single_filters_match_the_reference(case: tuple[str, str, Any]) -> None:
    """Any single filter on a number or enumeration property selects what the direct computation selects."""
    prop, op, value = case
    spec: dict[str, Any] = {"propertyName": prop, "operator": op}
    if value is not None:
        spec["value"] = str(value)
    expected = _reference(prop, op, float(value) if prop == "crmsync_reassignments" and value is not None else value)
    assert _ids({"filterGroups": [{"filters": [spec]}]}) == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(FILTERS, min_size=1, max_size=3), st.lists(FILTERS, min_size=1, max_size=3))
def test_groups_or_and_filters_and(first: list[tuple[str, str, Any]], second: list[tuple[str, str, Any]]) -> None:
    """Two groups select the union of their intersections (groups ORed, filters within a group ANDed)."""

    def spec(case: tuple[str, str, Any]) -> dict[str, Any]:
        prop, op, value = case
        return {"propertyName": prop, "operator": op, **({"value": str(value)} if value is not None else {})}

    def group_ids(group: list[tuple[str, str, Any]]) -> set[str]:
        sets = [set(_ids({"filterGroups": [{"filters": [spec(c)]}]})) for c in group]
        return set.intersection(*sets)

    body = {"filterGroups": [{"filters": [spec(c) for c in first]}, {"filters": [spec(c) for c in second]}]}
    assert set(_ids(body)) == group_ids(first) | group_ids(second)


def test_free_text_query_matches_token_prefixes() -> None:
    """``query`` matches records with a text token starting with it, case-insensitively."""
    assert len(_ids({"query": "mari"})) == 8
    assert len(_ids({"query": "GLOBEX"})) == 14


def test_not_contains_token_and_sort_descending_with_nulls_last() -> None:
    """NOT_CONTAINS_TOKEN excludes a domain; a descending sort puts records without the value last."""
    filters = [{"propertyName": "email", "operator": "NOT_CONTAINS_TOKEN", "value": "*@acme.example"}]
    found = _ids({"filterGroups": [{"filters": filters}], "sorts": ["-crmsync_reassignments"]})
    assert len(found) == 14
    assert all(int(i) % 3 == 2 for i in found)  # contact n has id 1001 + n, and n % 3 == 0 is a globex address
    values = [ORG.value("contacts", i, "crmsync_reassignments") for i in found]
    present = [v for v in values if v is not None]
    assert present == sorted(present, reverse=True)
    assert values[len(present) :] == [None] * (len(values) - len(present))


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ"}]}]}, "needs a value"),
        ({"filterGroups": [{"filters": [{"propertyName": "createdate", "operator": "GT", "value": "soon"}]}]},
         "not a valid value"),
        ({"after": "ten"}, "'after' must be an integer"),
        ({"filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ", "value": "x"}] * 11}]},
         "at most 10 filters"),
    ],
    ids=["missing-value", "bad-date", "bad-after", "too-many-in-group"],
)  # fmt: skip
def test_invalid_bodies_raise_400(body: dict[str, Any], fragment: str) -> None:
    """Malformed filters raise the HttpError the server turns into a 400 VALIDATION_ERROR."""
    from crmsync.sandbox.server import HttpError

    with pytest.raises(HttpError) as info:
        parse_search(body, SCHEMA)
    assert info.value.response.status == 400
    assert fragment in info.value.response.body.decode()
