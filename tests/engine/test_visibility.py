"""DESIGN §3.2 visibility: non-MQLs are hidden with a reason; MQLs with the holding owner are routed."""

from __future__ import annotations

import pytest

from crmsync.domain import Assign, Hide
from crmsync.engine import Phase

from .helpers import ANA, HOUR, MON_9, QUEUE, lead, policy, reply, run, touch

SCORE_ONLY = policy(qualification={"mql_when": {"field": "score", "gte": 60}})


@pytest.mark.parametrize(
    ("the_lead", "pol", "expected"),
    [
        (lead(owner=ANA, score=42), SCORE_ONLY, Hide(lead().ref, QUEUE, ANA, "not MQL: score 42 < 60")),
        (lead(owner=None, score="42"), SCORE_ONLY, Hide(lead().ref, QUEUE, None, "not MQL: score 42 < 60")),
        (lead(owner=ANA, score=None), SCORE_ONLY, Hide(lead().ref, QUEUE, ANA, "not MQL: score missing")),
        (
            lead(owner=ANA, score=42, source="Web"),
            policy(),
            Hide(lead().ref, QUEUE, ANA, "not MQL: score 42 < 60 and LeadSource 'Web' not in [Demo Request]"),
        ),
        (lead(owner=ANA, score="n/a"), SCORE_ONLY, Hide(lead().ref, QUEUE, ANA, "not MQL: score 'n/a' < 60")),
    ],
    ids=[
        "3.2-non-mql-owned-by-rep-hidden-with-reason",
        "3.2-non-mql-owned-by-nobody-hidden",
        "3.2-missing-score-is-not-mql",
        "3.2-reason-names-every-failed-option",
        "3.2-odd-score-is-not-mql-and-does-not-raise",
    ],
)
def test_non_mql_is_hidden_with_a_status_saying_why(the_lead, pol, expected):
    """A non-MQL a rep or nobody owns moves to the holding owner with the failing condition as its status."""
    decision = run(the_lead, MON_9, pol=pol)
    assert [p.action for p in decision.actions] == [expected]
    assert decision.state.state is Phase.HIDDEN
    assert decision.state.mql is False


@pytest.mark.parametrize(
    ("owner", "phase"),
    [(QUEUE, Phase.HIDDEN), ("00GOTHER", Phase.UNMANAGED)],
    ids=["3.2-non-mql-held-stays-hidden", "3.2-lead-in-an-unmanaged-queue-left-alone"],
)
def test_non_mql_in_a_queue_is_left_where_it_is(owner, phase):
    """A non-MQL already with the holding owner (or in a queue crmsync does not manage) needs no action."""
    decision = run(lead(owner=owner, score=10), MON_9)
    assert decision.actions == ()
    assert decision.state.state is phase


def test_non_mql_a_rep_is_actively_working_stays_until_the_gap_runs_out():
    """3.2: a non-MQL touched by its owner within the tier's gap (3d default) is not moved, and is due then."""
    activities = [touch(ANA, MON_9)]
    decision = run(lead(owner=ANA, score=10), MON_9 + 3 * HOUR, activities, first_seen=MON_9 + HOUR)
    assert decision.actions == ()
    # 3 business days (24 working hours) after Mon 09:00 EST end at close of Wed: 17:00 EST = 22:00 UTC.
    assert decision.due_at == MON_9.replace(day=4, hour=22)
    later = run(lead(owner=ANA, score=10), MON_9.replace(day=4, hour=22), activities, first_seen=MON_9 + HOUR)
    assert [p.kind for p in later.actions] == ["hide"]


@pytest.mark.parametrize(
    "owner", [QUEUE, None], ids=["3.2-mql-with-holding-owner-routed", "3.2-mql-with-nobody-routed"]
)
def test_mql_with_the_holding_owner_or_nobody_is_routed(owner):
    """An MQL sitting with the holding owner or nobody is assigned to a rep."""
    decision = run(lead(owner=owner, score=75), MON_9)
    action = decision.actions[0].action
    assert isinstance(action, Assign)
    assert (action.owner_id, action.expected_owner_id) == (ANA, owner)
    assert decision.state.state is Phase.ASSIGNED


def test_mql_a_rep_owns_stays_and_its_clock_starts_when_first_seen():
    """3.2: an MQL a rep already owns is not moved; its SLA clock starts at the moment crmsync first saw it."""
    decision = run(lead(owner=ANA, score=75), MON_9 + 2 * HOUR, first_seen=MON_9)
    assert decision.actions == ()
    assert decision.state.assigned_at == MON_9
    # default tier: first touch within 1 business day (8 working hours) → Mon 17:00 EST = 22:00 UTC
    assert decision.due_at == MON_9.replace(hour=22)
    assert decision.state.state is Phase.ASSIGNED


SCORED = policy(
    qualification={"mql_when": {"field": "score", "gte": 60}},
    scoring={
        "fit": {"components": [{"name": "vp", "when": {"field": "Title", "matches": "(?i)\\bvp\\b"}, "points": 50}]},
        "engagement": {
            "components": [{"name": "replied", "signal": "reply", "points": 20}],
            "half_life": "calendar 14d",
        },
    },
)


@pytest.mark.parametrize(
    ("activities", "expected"),
    [([], ["hide"]), ([reply(MON_9 - HOUR)], [])],
    ids=["3.2-scoring-fit-alone-below-threshold", "3.2-scoring-fit-plus-engagement-is-mql"],
)
def test_optional_scoring_decides_qualification(activities, expected):
    """With a scoring section, crmsync's computed score (fit + decayed engagement) is what the MQL rule reads."""
    the_lead = lead(owner=ANA, score=99, Title="VP Sales")
    decision = run(the_lead, MON_9, activities, pol=SCORED)
    assert [p.kind for p in decision.actions] == expected
    if expected:
        assert decision.actions[0].action.status_text == "not MQL: score 50 < 60"  # type: ignore[union-attr]
    else:
        assert decision.state.score == 69.96  # 50 + 20 × 0.5 ** (1h / 336h)
