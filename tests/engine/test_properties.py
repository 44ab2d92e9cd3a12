"""Properties of the engine over generated leads, histories and rosters (hypothesis, bounded examples)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmsync.domain import Activity, ActivitySource, Channel, Direction, Lead
from crmsync.engine import Roster, decide, derive
from crmsync.policy import Policy

from .helpers import ANA, BEN, CAM, CONN, DEV, MON_9, QUEUE, apply, lead, policy, roster

POLICIES = [
    policy(),
    policy(dispositions={"on_early_close": "flag"}),
    policy(routing=[{"name": "all", "team": "sdr", "method": "least_loaded"}], on_breach={"max_reassignments": 0}),
    policy(
        routing=[{"name": "all", "team": "sdr", "method": "weighted", "working_hours_only": False}],
        sla=[{"name": "one", "first_touch": "30m", "follow_up": {"touches": 2, "within": "2d", "mix": {"calls": 1}}}],
    ),
]
MINUTE = timedelta(minutes=1)
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Scenario:
    """A lead first seen open at ``first_seen`` and seen again (maybe changed) at ``now``, with activities."""

    pol: Policy
    before: Lead
    after: Lead
    activities: tuple[Activity, ...]
    first_seen: datetime
    now: datetime
    roster: Roster


@st.composite
def activities(draw: st.DrawFn, until: datetime) -> tuple[Activity, ...]:
    """Touches and replies between two days before MON_9 and ``until``."""
    span = int((until - MON_9) / MINUTE) + 2 * 24 * 60
    out = []
    for i in range(draw(st.integers(0, 8))):
        at = MON_9 - 2 * timedelta(days=1) + draw(st.integers(0, max(span, 0))) * MINUTE
        inbound = draw(st.booleans()) and draw(st.booleans())
        out.append(
            Activity(
                CONN, f"a{i}", "00Q1", None if inbound else draw(st.sampled_from([ANA, BEN, CAM])),
                draw(st.sampled_from([Channel.EMAIL, Channel.CALL, Channel.MEETING])),
                Direction.INBOUND if inbound else Direction.OUTBOUND, at, ActivitySource.CRM, draw(st.booleans()),
            )
        )  # fmt: skip
    return tuple(out)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A generated lead history under one of a few policies."""
    owner = draw(st.sampled_from([ANA, BEN, CAM, DEV, QUEUE, None]))
    score = draw(st.one_of(st.integers(60, 100), st.integers(0, 100), st.none(), st.just("n/a")))
    source = draw(st.sampled_from(["Web", "Demo Request", "Trade Show"]))
    first_seen = MON_9 + draw(st.integers(0, 7 * 24 * 60)) * MINUTE
    now = first_seen + draw(st.integers(0, 20 * 24 * 60)) * MINUTE
    status = draw(st.sampled_from(["Open", "Working", "Unqualified", "Nurture"]))
    reason = draw(st.sampled_from([None, "No budget", "Too busy"]))
    later_owner = draw(st.sampled_from([owner, owner, ANA, QUEUE]))
    before = lead(owner=owner, score=score, source=source, status="Working")
    after = lead(owner=later_owner, score=score, source=source, status=status, reason=reason)
    today = {rep: draw(st.integers(0, 21)) for rep in (ANA, BEN, CAM)}
    the_roster = roster(today=today, pointers={"sdr": draw(st.integers(0, 5))})
    return Scenario(draw(st.sampled_from(POLICIES)), before, after, draw(activities(now)), first_seen, now, the_roster)


def _state(s: Scenario, now: datetime):
    seen_then = [a for a in s.activities if a.occurred_at <= s.first_seen]
    first = derive(None, s.before, seen_then, s.pol, s.first_seen)
    return derive(first, s.after, [a for a in s.activities if a.occurred_at <= now], s.pol, now)


@SETTINGS
@given(scenarios())
def test_decisions_are_deterministic(s: Scenario) -> None:
    """The same state, lead, roster, policy and instant always give an equal decision."""
    state = _state(s, s.now)
    assert decide(state, s.after, s.roster, s.pol, s.now) == decide(state, s.after, s.roster, s.pol, s.now)


@SETTINGS
@given(scenarios())
def test_planning_an_applied_plan_yields_nothing(s: Scenario) -> None:
    """After the planned actions land in the CRM, deciding again at the same instant plans nothing more."""
    acts = [a for a in s.activities if a.occurred_at <= s.now]
    decision = decide(_state(s, s.now), s.after, s.roster, s.pol, s.now)
    landed = apply(s.after, [p.action for p in decision.actions])
    state = derive(decision.state, landed, acts, s.pol, s.now)
    again = decide(state, landed, s.roster.after(decision), s.pol, s.now)
    assert again.actions == (), (decision.explanation, again.explanation)


@SETTINGS
@given(scenarios(), st.integers(0, 30 * 24 * 60))
def test_a_breach_never_unhappens_as_now_grows(s: Scenario, minutes: int) -> None:
    """Without new data, a move decided at ``now`` is still decided (same kind and key) at any later instant."""
    moves = {"reassign", "recycle", "hide"}
    first = decide(_state(s, s.now), s.after, s.roster, s.pol, s.now)
    later_now = s.now + minutes * MINUTE
    frozen = Scenario(s.pol, s.before, s.after, tuple(a for a in s.activities if a.occurred_at <= s.now),
                      s.first_seen, s.now, s.roster)  # fmt: skip
    later = decide(_state(frozen, later_now), s.after, s.roster, s.pol, later_now)
    before = {(p.kind, p.key) for p in first.actions if p.kind in moves}
    after = {(p.kind, p.key) for p in later.actions if p.kind in moves}
    assert before <= after, (first.explanation, later.explanation)
