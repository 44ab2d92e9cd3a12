"""Report figures on the hand-built sample week (tests/reports/sample.py), checked against hand computation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from crmsync.policy.calendar import BusinessCalendar
from crmsync.reports.compute import (
    ActivityFacts,
    AssignmentFacts,
    LeadFacts,
    LeadHistory,
    RepFacts,
    RepFigures,
    Report,
    build_report,
)
from tests.reports import sample


@pytest.fixture(scope="module")
def report() -> Report:
    """The sample week's report."""
    return build_report(sample.histories(), sample.REPS, sample.rules(), sample.PERIOD, sample.NOW)


def _rep(report: Report, email: str) -> RepFigures:
    return next(r for r in report.reps if r.email == email)


def test_first_touch_median_and_p90_count_business_time_across_the_weekend(report: Report) -> None:
    """Ana's first touches take 120 (Fri 16:00 → Mon 10:00), 30, 45, 30 (Sat → Mon 09:30) and 30 business minutes."""
    ana = _rep(report, "ana@acme.test").figures
    assert ana.first_touches == 5
    assert ana.median_first_touch_business_minutes == pytest.approx(30.0)
    assert ana.p90_first_touch_business_minutes == pytest.approx(90.0)  # 45 + 0.6·(120 − 45)


def test_worked_within_sla_counts_late_and_missed_first_touches_against_the_rep(report: Report) -> None:
    """Ana's Friday lead is touched after its 1 h deadline (late); Ben misses one deadline and meets the other."""
    ana = _rep(report, "ana@acme.test").figures
    ben = _rep(report, "ben@acme.test").figures
    assert (ana.mqls_assigned, ana.sla_evaluated, ana.worked_within_sla) == (5, 5, 4)
    assert ana.worked_within_sla_pct == pytest.approx(80.0)
    assert (ben.mqls_assigned, ben.worked_within_sla) == (2, 1)
    assert ben.worked_within_sla_pct == pytest.approx(50.0)
    assert ben.median_first_touch_business_minutes == pytest.approx(10.0)


def test_touches_and_minutes_per_lead_by_channel(report: Report) -> None:
    """Ana: 3 emails, 2 calls (30 + 20 min), 1 meeting (45 min) over 5 leads; an inbound reply is no touch."""
    ana = _rep(report, "ana@acme.test").figures
    assert ana.touches_per_lead == pytest.approx(1.2)
    assert ana.touches_per_lead_by_channel == pytest.approx({"email": 0.6, "call": 0.4, "meeting": 0.2})
    assert ana.minutes_per_lead == pytest.approx((3 * 3 + 30 + 20 + 45) / 5)


def test_breach_reassignment_and_early_close_land_on_the_right_reps(report: Report) -> None:
    """Ben's missed lead is a breach and a reassignment out (in for Ana); his close after 2 of 5 touches is early."""
    ana = _rep(report, "ana@acme.test").figures
    ben = _rep(report, "ben@acme.test").figures
    assert (ben.breaches, ben.reassignments_out, ben.early_closes) == (1, 1, 1)
    assert (ana.breaches, ana.reassignments_in, ana.early_closes) == (0, 1, 0)
    assert ben.dispositions == {"No budget": 1}


def test_stale_mqls_are_open_a_week_after_their_mql_date(report: Report) -> None:
    """As of Tue 10 Mar 12:00, L2 (Mon 2 Mar) and L5 (Tue 3 Mar 09:00) are over a week old and still open."""
    ana = _rep(report, "ana@acme.test").figures
    assert (ana.stale_mqls, ana.stale_untouched) == (2, 0)
    assert report.totals.stale_mqls == 2


def test_cherry_pick_index_with_corrected_katz_interval(report: Report) -> None:
    """Ana works 2 of 3 VP leads and 2 of 2 others in SLA: a zero cell, so (2.5/4)/(2.5/3) = 0.75 with Katz bounds."""
    cherry = _rep(report, "ana@acme.test").cherry_pick
    assert (cherry.attractive_leads, cherry.attractive_worked, cherry.rest_leads, cherry.rest_worked) == (3, 2, 2, 2)
    assert cherry.corrected
    assert cherry.index == pytest.approx(0.75)
    # ln 0.75 ± 1.96·sqrt(1/2.5 − 1/4 + 1/2.5 − 1/3) = −0.28768 ± 0.91231
    assert cherry.low == pytest.approx(0.30119, abs=1e-4)
    assert cherry.high == pytest.approx(1.86754, abs=1e-4)
    assert not cherry.flagged


def test_cherry_pick_index_needs_the_minimum_sample(report: Report) -> None:
    """Ben has one lead in each segment, under the minimum of 2: no index, not flagged."""
    cherry = _rep(report, "ben@acme.test").cherry_pick
    assert cherry.index is None
    assert cherry.low is None
    assert not cherry.flagged


def test_touch_gini_of_ana(report: Report) -> None:
    """Ana's touches per lead are 1, 2, 1, 1, 1: Gini 2·20/(5·6) − 6/5 = 2/15."""
    assert _rep(report, "ana@acme.test").touch_gini == pytest.approx(2 / 15)


def test_team_source_campaign_and_totals(report: Report) -> None:
    """Groups add up: 7 ownerships in team sdr, 5 of them Web; totals' median over all six first touches."""
    (team,) = report.teams
    assert (team.key, team.mqls_assigned, team.worked_within_sla) == ("sdr", 7, 5)
    sources = {s.key: s for s in report.sources}
    assert (sources["Web"].mqls_assigned, sources["Trade Show"].mqls_assigned) == (5, 2)
    assert (sources["Web"].mqls_delivered, sources["Trade Show"].mqls_delivered) == (4, 2)
    assert {c.key: c.mqls_assigned for c in report.campaigns} == {"expo": 2, "spring": 5}
    assert report.totals.median_first_touch_business_minutes == pytest.approx(30.0)
    assert report.totals.p90_first_touch_business_minutes == pytest.approx(82.5)


def test_first_touch_histogram(report: Report) -> None:
    """Six first touches: 10 min, four between 15 and 60 min, one of 2 h."""
    assert dict(report.first_touch_histogram) == {
        "< 15 min": 1, "15–60 min": 4, "1–4 h": 1, "4–8 h": 0, "8–16 h": 0, "16–40 h": 0, "≥ 40 h": 0,
    }  # fmt: skip


def test_capacity_backlog_carries_weekend_and_overflow(report: Report) -> None:
    """One lead a day of capacity: Wednesday's two leads leave one over; Saturday's waits to the period's end."""
    (sdr,) = report.capacity
    assert (sdr.members, sdr.leads_per_day, sdr.business_days, sdr.inflow) == (2, 1.0, 5, 6)
    assert sdr.inflow_per_business_day == pytest.approx(1.2)
    assert [(d.day.day, d.inflow, d.capacity, d.backlog) for d in sdr.days] == [
        (2, 1, 1, 0), (3, 1, 1, 0), (4, 2, 1, 1), (5, 0, 1, 0), (6, 1, 1, 0), (7, 1, 0, 1), (8, 0, 0, 1),
    ]  # fmt: skip
    assert (sdr.overflow, sdr.peak_backlog, sdr.end_backlog) == (1.0, 1.0, 1.0)
    assert sdr.days[0].day == date(2026, 3, 2)


def test_holiday_and_rep_timezone_shape_business_minutes() -> None:
    """A rep in New York gets a lead at 13:30 UTC (08:30 local): first touch at 14:10 UTC is 10 business minutes."""
    rules = sample.rules(calendar=BusinessCalendar("UTC"))
    rep = RepFacts("005N", "nia@acme.test", "Nia", timezone="America/New_York")
    lead = LeadFacts("N1", "005N", sample.at(1, 8))
    history = LeadHistory(
        lead,
        (AssignmentFacts("N1", "005N", None, "route", datetime(2026, 3, 3, 13, 30, tzinfo=UTC)),),
        (
            ActivityFacts(
                "N1", "005N", "call", "outbound", datetime(2026, 3, 3, 14, 10, tzinfo=UTC), duration_minutes=5
            ),
        ),
    )
    report = build_report([history], [rep], rules, sample.PERIOD, sample.NOW)
    assert report.reps[0].figures.median_first_touch_business_minutes == pytest.approx(10.0)


def test_automated_email_counts_only_when_the_tier_says_so() -> None:
    """A sequence email is no touch under the default tier; the lead stays untouched and its deadline is missed."""
    lead = LeadFacts("A1", "005A", sample.at(1, 8))
    history = LeadHistory(
        lead,
        (AssignmentFacts("A1", "005A", None, "route", sample.at(2, 10)),),
        (ActivityFacts("A1", "005A", "email", "outbound", sample.at(2, 10, 5), automated=True),),
    )
    report = build_report([history], sample.REPS, sample.rules(), sample.PERIOD, sample.NOW)
    ana = report.reps[0].figures
    assert (ana.first_touches, ana.worked_within_sla, ana.sla_evaluated, ana.touches_per_lead) == (0, 0, 1, 0.0)


def test_pending_first_touch_is_left_out_of_the_sla_percentage() -> None:
    """A lead assigned an hour before ``now`` whose deadline has not passed is neither worked nor missed."""
    now = sample.at(6, 16, 30)
    lead = LeadFacts("P1", "005A", sample.at(1, 8))
    history = LeadHistory(lead, (AssignmentFacts("P1", "005A", None, "route", sample.at(6, 16)),), ())
    report = build_report([history], sample.REPS, sample.rules(), sample.PERIOD, now)
    ana = report.reps[0].figures
    assert (ana.mqls_assigned, ana.sla_evaluated, ana.worked_within_sla_pct) == (1, 0, None)


def test_holding_owner_and_queues_are_not_reps() -> None:
    """A lead waiting with the holding queue counts as delivered inflow but for no rep."""
    lead = LeadFacts("Q1", "00GQ", sample.at(1, 8), source="Web")
    history = LeadHistory(lead, (AssignmentFacts("Q1", "00GQ", None, "route", sample.at(2, 9), rule="everyone"),), ())
    report = build_report([history], sample.REPS, sample.rules(), sample.PERIOD, sample.NOW)
    assert report.reps == ()
    assert report.sources[0].mqls_delivered == 1
    assert report.capacity[0].inflow == 1
    assert report.teams[0].stale_untouched == 1


def test_recycle_after_completed_cadence_is_no_breach() -> None:
    """A recycle whose reason says the cadence completed is counted as a recycle, not as a breach."""
    lead = LeadFacts("R1", "00GQ", sample.at(1, 8))
    events = (
        AssignmentFacts("R1", "005A", None, "route", sample.at(2, 9)),
        AssignmentFacts("R1", "00GQ", "005A", "recycle", sample.at(6, 9), reason="Unresponsive: cadence completed"),
    )
    report = build_report([LeadHistory(lead, events)], sample.REPS, sample.rules(), sample.PERIOD, sample.NOW)
    ana = report.reps[0].figures
    assert (ana.recycles, ana.breaches) == (1, 0)


def test_period_rejects_naive_or_empty_ranges() -> None:
    """A period needs aware ends and a positive length."""
    with pytest.raises(ValueError, match="timezone-aware"):
        sample.Period(datetime(2026, 3, 2), datetime(2026, 3, 9))  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="end after"):
        sample.Period(sample.NOW, sample.NOW - timedelta(days=1))


def test_crmsyncs_own_close_is_no_early_close() -> None:
    """A lead crmsync closed (a recycle seen later in the CRM) is a disposition, never a rep's early close."""
    lead = LeadFacts("C1", "005A", sample.at(1, 8), closed_at=sample.at(4, 12), disposition="Recycled: no touch",
                     closed_by_crmsync=True)  # fmt: skip
    history = LeadHistory(lead, (AssignmentFacts("C1", "005A", None, "route", sample.at(2, 9)),))
    report = build_report([history], sample.REPS, sample.rules(), sample.PERIOD, sample.NOW)
    ana = report.reps[0].figures
    assert ana.early_closes == 0
    assert ana.dispositions == {"Recycled: no touch": 1}


def test_ownership_before_the_first_recorded_event_is_implied() -> None:
    """crmsync records no entry when it first sees a rep's lead: a reassignment away from Ana still counts for her."""
    lead = LeadFacts("I1", "005A", sample.at(1, 8), assigned_at=sample.at(2, 9))
    moved = AssignmentFacts("I1", "005B", "005A", "reassign", sample.at(2, 11), reason="no first touch")
    report = build_report([LeadHistory(lead, (moved,))], sample.REPS, sample.rules(), sample.PERIOD, sample.NOW)
    reps = {r.email: r.figures for r in report.reps}
    ana, ben = reps["ana@acme.test"], reps["ben@acme.test"]
    assert (ana.mqls_assigned, ana.sla_evaluated, ana.worked_within_sla, ana.breaches) == (1, 1, 0, 1)
    assert (ben.mqls_assigned, ben.reassignments_in) == (1, 1)


def test_reopen_continues_the_owners_ownership() -> None:
    """A reopen gives the lead back to its closer: one ownership, the earlier touch counts, one early close."""
    lead = LeadFacts("O1", "005B", sample.at(1, 8), assigned_at=sample.at(2, 9))
    reopen = AssignmentFacts("O1", "005B", "005B", "reopen", sample.at(2, 10))
    touch = ActivityFacts("O1", "005B", "call", "outbound", sample.at(2, 9, 20), duration_minutes=4)
    report = build_report(
        [LeadHistory(lead, (reopen,), (touch,))], sample.REPS, sample.rules(), sample.PERIOD, sample.NOW
    )
    ben = report.reps[0].figures
    assert (ben.mqls_assigned, ben.worked_within_sla, ben.early_closes) == (1, 1, 1)
    assert ben.median_first_touch_business_minutes == pytest.approx(20.0)


def test_close_awaiting_its_reopen_counts_once() -> None:
    """A rep's early close whose reopen is decided but not yet seen in the CRM is one early close, not two."""
    lead = LeadFacts("W1", "005B", sample.at(1, 8), assigned_at=sample.at(2, 9), closed_at=sample.at(2, 10))
    reopen = AssignmentFacts("W1", "005B", "005B", "reopen", sample.at(2, 10, 6))
    report = build_report([LeadHistory(lead, (reopen,))], sample.REPS, sample.rules(), sample.PERIOD, sample.NOW)
    assert report.reps[0].figures.early_closes == 1


def test_a_non_mql_a_rep_held_is_no_ownership() -> None:
    """A lead hidden from a rep (it was no MQL), or a non-MQL with no history, is not counted for the rep."""
    hidden = LeadHistory(
        LeadFacts("H1", "00GQ", sample.at(1, 8), mql=False),
        (AssignmentFacts("H1", "00GQ", "005A", "hide", sample.at(2, 9)),),
    )
    never = LeadHistory(LeadFacts("H2", "005A", sample.at(2, 8), mql=False))
    report = build_report([hidden, never], sample.REPS, sample.rules(), sample.PERIOD, sample.NOW)
    assert report.reps == ()
    assert report.totals.mqls_assigned == 0
