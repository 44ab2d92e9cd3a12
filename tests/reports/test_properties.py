"""Invariants of the report fold on random histories: groups add up, rates stay rates, intervals hold."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.reports.compute import ActivityFacts, AssignmentFacts, LeadFacts, LeadHistory, build_report
from tests.reports import sample

OWNERS = ("005A", "005B", "00GQ")
START = sample.at(1, 0)
instants = st.integers(0, 21 * 24 * 4).map(lambda q: START + timedelta(minutes=15 * q))
events = st.builds(
    AssignmentFacts,
    lead_id=st.just("X"),
    owner_id=st.sampled_from(OWNERS),
    previous_owner_id=st.none(),
    kind=st.sampled_from(("route", "reassign", "recycle", "hide", "reopen", "seen")),
    at=instants,
    rule=st.sampled_from((None, "everyone")),
    reason=st.sampled_from((None, "Unresponsive: cadence completed", "Recycled")),
)
activities = st.builds(
    ActivityFacts,
    lead_id=st.just("X"),
    owner_id=st.sampled_from(OWNERS),
    channel=st.sampled_from(("email", "call", "meeting", "other")),
    direction=st.sampled_from(("outbound", "inbound")),
    occurred_at=instants,
    automated=st.booleans(),
    duration_minutes=st.one_of(st.none(), st.integers(0, 90)),
)


@st.composite
def histories(draw: st.DrawFn) -> list[LeadHistory]:
    found = []
    for i in range(draw(st.integers(1, 8))):
        lead = LeadFacts(
            f"L{i}",
            draw(st.sampled_from(OWNERS)),
            START,
            mql=draw(st.booleans()),
            fields={"Title": draw(st.sampled_from(("VP Sales", "Analyst")))},
            source=draw(st.sampled_from(("Web", "Trade Show", None))),
            closed_at=draw(st.one_of(st.none(), instants)),
            disposition=draw(st.sampled_from((None, "No budget"))),
            converted=draw(st.booleans()),
        )
        found.append(
            LeadHistory(lead, tuple(draw(st.lists(events, max_size=4))), tuple(draw(st.lists(activities, max_size=5))))
        )
    return found


@settings(max_examples=80, deadline=None)
@given(histories())
def test_groups_add_up_and_rates_stay_in_range(leads: list[LeadHistory]) -> None:
    """Reps, teams, sources and campaigns each partition the totals; every rate, index and Gini is in range."""
    report = build_report(leads, sample.REPS, sample.rules(min_sample=1), sample.PERIOD, sample.NOW)
    total = report.totals
    for groups in ([r.figures for r in report.reps], report.teams, report.sources, report.campaigns):
        assert sum(g.mqls_assigned for g in groups) == total.mqls_assigned
        assert sum(g.breaches for g in groups) == total.breaches
        assert sum(sum(g.dispositions.values()) for g in groups) <= sum(total.dispositions.values())
    for g in (total, *report.teams, *report.sources, *(r.figures for r in report.reps)):
        assert 0 <= g.worked_within_sla <= g.sla_evaluated <= g.mqls_assigned
        assert g.worked_within_sla_pct is None or 0.0 <= g.worked_within_sla_pct <= 100.0
        assert g.first_touches <= g.mqls_assigned
        assert g.median_first_touch_business_minutes is None or g.median_first_touch_business_minutes >= 0
    for rep in report.reps:
        cherry = rep.cherry_pick
        if cherry.index is not None:
            assert cherry.low is not None
            assert cherry.high is not None
            assert cherry.low <= cherry.index <= cherry.high
        assert rep.touch_gini is None or 0.0 <= rep.touch_gini < 1.0
    assert sum(n for _, n in report.first_touch_histogram) == total.first_touches
    assert sum(c.inflow for c in report.capacity) == total.mqls_delivered
