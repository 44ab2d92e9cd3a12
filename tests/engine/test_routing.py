"""DESIGN §3.3 routing: rules in order, methods, eligibility with skip reasons, and waiting for capacity."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from crmsync.domain import Assign
from crmsync.engine import NO_CAPACITY, Phase, decide_all, derive

from .helpers import ANA, BEN, CAM, DEV, HOUR, MON_9, QUEUE, lead, policy, roster, run


def utc(*args: int) -> datetime:
    """An aware UTC instant."""
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def _owner(decision) -> str | None:
    """Who the decision's Assign gives the lead to (None: no Assign)."""
    found = [p.action for p in decision.actions if isinstance(p.action, Assign)]
    return found[0].owner_id if found else None


def _held(n: int, **fields):
    return [lead(f"00Q{i}", owner=QUEUE, **fields) for i in range(n)]


def _batch(leads, the_roster, pol=None, now=MON_9 + HOUR):
    p = pol or policy()
    return decide_all([(derive(None, x, [], p, now), x) for x in leads], the_roster, p, now)


def test_round_robin_order_across_a_batch():
    """round_robin takes members in order from the pointer, and the batch carries the pointer and loads on."""
    batch = _batch(_held(4), roster(pointers={"sdr": 0}))
    assert [_owner(d) for d in batch.decisions] == [ANA, BEN, CAM, ANA]
    assert batch.roster.pointers["sdr"] == 1
    assert (batch.roster.open_leads[ANA], batch.roster.assigned_today[BEN]) == (2, 1)
    assert [d.assignments[0].pointer for d in batch.decisions] == [1, 2, 3, 1]


def test_round_robin_starts_at_the_persisted_pointer():
    """The pointer passed in picks the first rep."""
    assert _owner(run(lead(owner=QUEUE), MON_9 + HOUR, the_roster=roster(pointers={"sdr": 2}))) == CAM


@pytest.mark.parametrize(
    ("open_leads", "today", "expected"),
    [
        ({ANA: 5, BEN: 2, CAM: 3}, {}, BEN),
        ({ANA: 2, BEN: 2, CAM: 2}, {ANA: 3, BEN: 1, CAM: 1}, BEN),
        ({}, {}, ANA),
    ],
    ids=["3.3-least-loaded-fewest-open", "3.3-least-loaded-tie-fewest-today", "3.3-least-loaded-tie-member-order"],
)
def test_least_loaded_picks_fewest_open_leads(open_leads, today, expected):
    """least_loaded picks the eligible rep with the fewest open leads (then fewest today, then order)."""
    pol = policy(routing=[{"name": "all", "team": "sdr", "method": "least_loaded"}])
    decision = run(lead(owner=QUEUE), MON_9 + HOUR, pol=pol, the_roster=roster(open_leads, today))
    assert _owner(decision) == expected


def test_least_loaded_spreads_a_batch():
    """Within a batch, least_loaded sees the leads given earlier."""
    pol = policy(routing=[{"name": "all", "team": "sdr", "method": "least_loaded"}])
    batch = _batch(_held(6), roster({ANA: 2}), pol)
    # loads (ana 2, ben 0, cam 0): ben, cam, then ties broken by today's count and member order
    assert [_owner(d) for d in batch.decisions] == [BEN, CAM, BEN, CAM, ANA, BEN]


def test_weighted_is_deterministic_and_weight_proportional():
    """weighted gives each rep a share of leads proportional to its weight, the same way every run."""
    members = [{"email": "ana@acme.test", "weight": 3}, {"email": "ben@acme.test", "weight": 1}]
    pol = policy(
        teams={"sdr": {"members": members, "capacity": {"leads_per_day": 1000}}},
        routing=[{"name": "all", "team": "sdr", "method": "weighted"}],
    )
    first = [_owner(d) for d in _batch(_held(400), roster(), pol).decisions]
    again = [_owner(d) for d in _batch(_held(400), roster(), pol).decisions]
    assert first == again
    counts = Counter(first)
    assert abs(counts[ANA] - 300) <= 3
    assert counts[ANA] + counts[BEN] == 400


def test_first_matching_rule_names_the_team():
    """Rules are tried in order: trade-show leads go to the events team."""
    decision = run(lead(owner=QUEUE, source="Trade Show"), MON_9 + HOUR)
    assert _owner(decision) == DEV
    assert decision.actions[0].action.rule == "trade shows"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("changes", "the_roster", "now", "skipped_ana", "expected"),
    [
        (
            {"teams": {"sdr": {"members": [{"email": "ana@acme.test", "out_of_office": [
                {"start": "2026-03-02", "end": "2026-03-03"}]}, "ben@acme.test", "cam@acme.test"]}}},
            roster(), MON_9 + HOUR, ("out of office",), BEN,
        ),
        ({}, roster(today={ANA: 20}), MON_9 + HOUR, ("daily cap reached (20/20)",), BEN),
        ({"teams": {"sdr": {"capacity": {"leads_per_day": 5, "max_open_leads": 10}}}},
         roster(open_leads={ANA: 10}), MON_9 + HOUR, ("open-lead cap reached (10/10)",), BEN),
        ({"routing": [{"name": "es", "team": "sdr", "skills": ["spanish"]}],
          "teams": {"sdr": {"members": ["ana@acme.test", {"email": "ben@acme.test", "skills": ["spanish"]},
                                        "cam@acme.test"]}}},
         roster(), MON_9 + HOUR, ("missing skills: spanish",), BEN),
        ({}, roster(inactive=[ANA]), MON_9 + HOUR, ("inactive in the CRM",), BEN),
        ({"teams": {"sdr": {"members": [{"email": "ana@acme.test", "timezone": "Asia/Tokyo"}, "ben@acme.test"]}}},
         roster(), MON_9 + HOUR, ("outside working hours",), BEN),
    ],
    ids=[
        "3.3-out-of-office-rep-skipped",
        "3.3-daily-cap-focus-minutes-360-over-18",
        "3.3-open-lead-cap",
        "3.3-required-skills",
        "3.3-inactive-rep-skipped",
        "3.3-outside-working-hours-in-reps-timezone",
    ],
)  # fmt: skip
def test_ineligible_rep_is_skipped_with_the_reason(changes, the_roster, now, skipped_ana, expected):
    """Each eligibility rule skips Ana with its reason, and the next eligible rep gets the lead."""
    decision = run(lead(owner=QUEUE), now, pol=policy(**changes), the_roster=the_roster)
    assert _owner(decision) == expected
    assert decision.explanation.candidates[0].skipped == skipped_ana
    assert decision.assignments[0].candidates[0].skipped == skipped_ana


def test_capacity_exhausted_waits_with_no_capacity():
    """3.3: every rep at the daily cap → no action, the lead waits, counted as overflow, due at the next day."""
    full = roster(today={ANA: 20, BEN: 20, CAM: 20})
    decision = run(lead(owner=QUEUE), MON_9 + HOUR, the_roster=full)
    assert decision.actions == ()
    assert decision.overflow
    assert decision.state.state is Phase.WAITING
    assert NO_CAPACITY in decision.explanation.outcome
    # caps reset at the reps' midnight; the next working instant is Tue 09:00 EST
    assert decision.due_at == utc(2026, 3, 3, 14)


def test_outside_working_hours_waits_until_hours_start():
    """3.3: at night nobody is inside working hours: the lead waits and is due when hours start."""
    decision = run(lead(owner=QUEUE), utc(2026, 3, 3, 1))
    assert decision.actions == ()
    assert decision.overflow
    assert decision.due_at == utc(2026, 3, 3, 14)
    anytime = policy(routing=[{"name": "all", "team": "sdr", "working_hours_only": False}])
    assert _owner(run(lead(owner=QUEUE), utc(2026, 3, 3, 1), pol=anytime)) == ANA


def test_policy_member_missing_from_the_crm_is_reported_and_skipped():
    """A team member who is not a CRM user is skipped with a reason, reported as a problem, and routing goes on."""
    pol = policy(teams={"sdr": {"members": ["zed@acme.test", "ben@acme.test"]}})
    decision = run(lead(owner=QUEUE), MON_9 + HOUR, pol=pol)
    assert _owner(decision) == BEN
    assert decision.explanation.candidates[0].skipped == ("not a CRM user",)
    assert decision.problems == ("team 'sdr' names zed@acme.test, who is not a CRM user",)


def test_decide_all_is_a_pure_fold_over_the_roster():
    """decide_all leaves the roster it was given untouched; Roster.after applies one decision the same way."""
    given = roster(pointers={"sdr": 0})
    batch = _batch(_held(2), given)
    assert (dict(given.pointers), dict(given.open_leads)) == ({"sdr": 0}, {})
    one_by_one = given.after(batch.decisions[0]).after(batch.decisions[1])
    assert (one_by_one.pointers, one_by_one.open_leads) == (batch.roster.pointers, batch.roster.open_leads)
