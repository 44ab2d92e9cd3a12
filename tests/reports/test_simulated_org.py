"""On the sandbox's simulated org, the cherry-pick index singles out the reps seeded as cherry-pickers.

The org is read as it stands in the simulated Salesforce, before crmsync acts on it (the CRM's own
round-robin assignment rule, the reps' own habits), which is where cherry-picking shows: the leads each rep
was given at creation, and the Tasks and Events they logged.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from crmsync.domain.model import Vendor
from crmsync.policy.calendar import BusinessCalendar
from crmsync.reports.compute import (
    ActivityFacts,
    AssignmentFacts,
    LeadFacts,
    LeadHistory,
    Period,
    RepFacts,
    Report,
    ReportRules,
    SlaTier,
    TeamCapacity,
    build_report,
)
from crmsync.sandbox import simulation

SENIOR = re.compile(r"^(CEO|CTO|CFO|VP|Head|Director)\b")


def _attractive(fields: Any) -> bool:
    """The policy's segment for this org: 500+ employees or a senior title (as the sandbox's people define it)."""
    return (fields.get("NumberOfEmployees") or 0) >= 500 or bool(SENIOR.match(str(fields.get("Title") or "")))


def _activities(org: Any) -> dict[str, list[ActivityFacts]]:
    found: dict[str, list[ActivityFacts]] = {}
    for task in org.rows("Task"):
        channel = {"Email": "email", "Call": "call"}.get(task["TaskSubtype"], "other")
        seconds = task["CallDurationInSeconds"]
        found.setdefault(task["WhoId"], []).append(
            ActivityFacts(task["WhoId"], task["OwnerId"], channel, "outbound", task["CreatedDate"],
                          duration_minutes=None if seconds is None else seconds // 60)
        )  # fmt: skip
    for event in org.rows("Event"):
        found.setdefault(event["WhoId"], []).append(
            ActivityFacts(event["WhoId"], event["OwnerId"], "meeting", "outbound", event["StartDateTime"],
                          duration_minutes=event["DurationInMinutes"])
        )  # fmt: skip
    return found


def _histories(org: Any) -> list[LeadHistory]:
    touches = _activities(org)
    found = []
    for row in org.rows("Lead"):
        if (row["Lead_Score__c"] or 0) < 60:
            continue
        lead = LeadFacts(row["Id"], row["OwnerId"], row["CreatedDate"], fields=dict(row), source=row["LeadSource"])
        routed = AssignmentFacts(row["Id"], row["OwnerId"], None, "route", row["CreatedDate"], rule="everyone")
        found.append(LeadHistory(lead, (routed,), tuple(touches.get(row["Id"], ()))))
    return found


@pytest.fixture(scope="module")
def simulated() -> tuple[Report, dict[str, str]]:
    """Eight weeks of a 90-day simulated org (3,000 leads, 8 reps), and each rep id's seeded personality."""
    sim = simulation.Simulation(
        simulation.SimulationConfig(leads=3000, reps=8, history_days=90, vendors=(Vendor.SALESFORCE,), seed=1)
    )
    org = sim.orgs[Vendor.SALESFORCE]
    reps = [RepFacts(u["Id"], u["Email"], u["Name"], timezone=u["TimeZoneSidKey"]) for u in org.rows("User")]
    rules = ReportRules(
        calendar=BusinessCalendar("UTC"),
        teams=(TeamCapacity("sdr", tuple(r.email or "" for r in reps), 10),),
        tiers=(SlaTier("default", lambda _f: True, timedelta(hours=8)),),
        attractive=_attractive,
        min_sample=20,
        rule_teams={"everyone": "sdr"},
    )
    period = Period(sim.now - timedelta(days=60), sim.now - timedelta(days=3))
    report = build_report(_histories(org), reps, rules, period, sim.now)
    ids = sim.rep_ids(Vendor.SALESFORCE)
    return report, {ids[key]: kind.value for key, kind in sim.personalities.items()}


def test_cherry_pickers_have_the_highest_index_and_are_flagged(simulated: tuple[Report, dict[str, str]]) -> None:
    """Every seeded cherry-picker's index exceeds every other rep's, and its whole interval lies above 1."""
    report, kinds = simulated
    pickers = [r for r in report.reps if kinds[r.owner_id] == "cherry_picker"]
    others = [r.cherry_pick.index for r in report.reps if kinds[r.owner_id] != "cherry_picker"]
    assert len(pickers) == 2
    assert all(p.cherry_pick.flagged for p in pickers)
    lowest = min(p.cherry_pick.index or 0.0 for p in pickers)
    assert all(index is None or index < lowest for index in others)


def test_diligent_reps_are_near_even_handed(simulated: tuple[Report, dict[str, str]]) -> None:
    """Diligent reps score close to 1.0, with intervals that include 1 and no flag."""
    report, kinds = simulated
    diligent = [r.cherry_pick for r in report.reps if kinds[r.owner_id] == "diligent"]
    assert len(diligent) == 3
    for cherry in diligent:
        assert cherry.index is not None
        assert cherry.low is not None
        assert 0.8 <= cherry.index <= 1.25
        assert cherry.low <= 1.0
        assert not cherry.flagged
