"""The policy model: what the engine asks of it, and the invariants it keeps when built in code."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from crmsync.policy.model import Capacity, Policy


def test_engine_questions(policy_data: dict[str, Any]) -> None:
    """MQL, routing, SLA tier and attractiveness answer through the field mapping."""
    policy = Policy.model_validate(policy_data)
    assert policy.is_mql({"Lead_Score__c": "61"})
    assert policy.is_mql({"LeadSource": "Demo Request"})
    assert not policy.is_mql({"Lead_Score__c": "59"})
    rule = policy.routing_rule_for({"LeadSource": "Trade Show"})
    assert rule is not None
    assert rule.team == "events"
    fallback = policy.routing_rule_for({})
    assert fallback is not None
    assert fallback.name == "everyone else"
    tier = policy.sla_tier_for({"LeadSource": "Demo Request"})
    assert tier is not None
    assert tier.name == "demo requests"
    assert str(tier.first_touch) == "1h"
    assert policy.is_attractive({"Title": "VP Sales"}) is True
    assert policy.is_attractive({"NumberOfEmployees": "120"}) is False
    assert policy.field_name("score") == "Lead_Score__c"
    assert policy.field_name("status") == "status"
    assert policy.field_name("Custom__c") == "Custom__c"


def test_teams_and_owners(policy_data: dict[str, Any]) -> None:
    """Capacity in focus minutes derives leads per day; members are found by address; holding owners default."""
    policy = Policy.model_validate(policy_data)
    assert policy.team("sdr").capacity.daily_leads == 20
    assert policy.team("events").capacity.daily_leads == 40
    member = policy.member("ANA@acme.test")
    assert member is not None
    assert member.email == "ana@acme.test"
    assert policy.teams_of("dev@acme.test") == ("events",)
    assert policy.holding_owner_for("sdr") == "queue:Marketing Nurture"


def test_rep_calendar(policy_data: dict[str, Any]) -> None:
    """A rep with a timezone and an out-of-office period gets a calendar of their own, cached."""
    data = copy.deepcopy(policy_data)
    data["teams"]["sdr"]["members"][0] = {
        "email": "ana@acme.test",
        "timezone": "Europe/London",
        "out_of_office": [{"start": date(2026, 3, 3), "end": date(2026, 3, 3)}],
    }
    policy = Policy.model_validate(data)
    rep = policy.calendar_for("ana@acme.test")
    assert rep is policy.calendar_for("ana@acme.test")
    assert policy.calendar_for("ben@acme.test") is policy.business_calendar
    start = datetime(2026, 3, 2, 16, tzinfo=UTC)  # 16:00 in London, 11:00 in New York
    assert rep.add(start, timedelta(hours=2)) == datetime(2026, 3, 4, 10, tzinfo=UTC)


def test_frozen(policy_data: dict[str, Any]) -> None:
    """A policy cannot be changed after it is built."""
    policy = Policy.model_validate(policy_data)
    with pytest.raises(ValidationError):
        policy.version = 1  # type: ignore[misc]


def test_cross_checks_run_when_built_in_code(policy_data: dict[str, Any]) -> None:
    """Building a policy in code still refuses a routing rule naming an unknown team."""
    data = copy.deepcopy(policy_data)
    data["routing"][0]["team"] = "evnts"
    with pytest.raises(ValidationError, match=r"routing\[0\]\.team: unknown team 'evnts' \(did you mean 'events'\?\)"):
        Policy.model_validate(data)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"leads_per_day": 5, "minutes_per_lead": 18}, "not both"),
        ({"focus_minutes_per_day": 360}, "both focus_minutes_per_day and minutes_per_lead"),
        ({}, "give leads_per_day"),
    ],
    ids=["both forms", "half of the minutes form", "nothing"],
)
def test_capacity_forms(spec: dict[str, int], message: str) -> None:
    """Capacity takes exactly one of its two forms."""
    with pytest.raises(ValidationError, match=message):
        Capacity.model_validate(spec)
