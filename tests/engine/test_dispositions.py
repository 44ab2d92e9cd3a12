"""DESIGN §3.6 dispositions and minimum effort: early closes are reopened or flagged as the policy says."""

from __future__ import annotations

import pytest

from crmsync.domain import Channel, CreateTask, Flag, Reopen
from crmsync.engine import Phase, decide, derive

from .helpers import ANA, HOUR, MIA, MON_9, QUEUE, apply, kinds, lead, policy, roster, touch

E, C = Channel.EMAIL, Channel.CALL


def _closed(channels, reason, pol=None, status="Unqualified"):
    """Ana works the lead (status Working) then closes it with ``reason``; decide right after."""
    p = pol or policy()
    activities = [touch(ANA, MON_9 + HOUR * (i + 1), ch) for i, ch in enumerate(channels)]
    working = derive(None, lead(owner=ANA, status="Working"), [], p, MON_9)
    closed = lead(owner=ANA, status=status, reason=reason)
    state = derive(working, closed, activities, p, MON_9 + 8 * HOUR)
    return closed, decide(state, closed, roster(), p, MON_9 + 8 * HOUR)


@pytest.mark.parametrize(
    ("channels", "reason", "message"),
    [
        ([E, E], "No budget", "Reopened: 2 of 5 required touches"),
        ([E, C, E, C, E], None, "Reopened: no disposition reason given"),
        ([E, C, E, C, E], "Too busy", "Reopened: reason 'Too busy' is not one of the policy's reasons"),
        ([E], None, "Reopened: no disposition reason given; 1 of 5 required touches"),
    ],
    ids=[
        "3.6-too-few-touches-reopened",
        "3.6-missing-reason-reopened",
        "3.6-unlisted-reason-reopened",
        "3.6-every-problem-named",
    ],
)
def test_early_close_is_reopened_with_previous_status_and_owner(channels, reason, message):
    """on_early_close=reopen restores the status and owner the lead had before the close, saying why."""
    closed, decision = _closed(channels, reason)
    assert [p.action for p in decision.actions] == [Reopen(closed.ref, "Working", ANA, ANA, message)]
    assert decision.actions[0].key == "sf/00Q1:reopen:e0:c1"


def test_early_close_is_flagged_with_a_task_for_the_manager():
    """on_early_close=flag keeps the close, flags it and gives the team's manager a task."""
    _, decision = _closed([E, E], "No budget", policy(dispositions={"on_early_close": "flag"}))
    flag, task = (p.action for p in decision.actions)
    assert flag == Flag(lead().ref, "Flagged: 2 of 5 required touches")
    assert isinstance(task, CreateTask)
    assert task.owner_id == MIA
    assert decision.state.state is Phase.CLOSED


@pytest.mark.parametrize(
    ("channels", "pol", "expected"),
    [
        ([E, C, E, C, E], None, []),
        ([E, E, E, E, E], policy(dispositions={"min_channels_before_close": 2}), ["reopen"]),
        ([E], policy(dispositions={"min_touches_before_close": 0}), []),
    ],
    ids=["3.6-enough-effort-and-reason-accepted", "3.6-too-few-channels-reopened", "3.6-no-effort-required"],
)
def test_close_with_reason_and_effort(channels, pol, expected):
    """A close with a listed reason and the required touches and channels stands."""
    _, decision = _closed(channels, "No budget", pol)
    assert kinds(decision) == expected


def test_reopened_lead_planned_again_yields_nothing():
    """After the reopen lands, the lead is open with its owner and the clock gives the rep a fresh gap."""
    closed, decision = _closed([E, E], "No budget")
    after = apply(closed, [p.action for p in decision.actions])
    p = policy()
    state = derive(decision.state, after, [touch(ANA, MON_9 + HOUR), touch(ANA, MON_9 + 2 * HOUR)], p, MON_9 + 8 * HOUR)
    again = decide(state, after, roster(), p, MON_9 + 8 * HOUR)
    assert again.actions == ()
    assert again.state.restarted_at == MON_9 + 8 * HOUR


def test_lead_first_seen_closed_is_not_checked():
    """A lead already closed when crmsync first sees it has no open status to restore: the close stands."""
    p = policy()
    closed = lead(owner=ANA, status="Unqualified")
    decision = decide(derive(None, closed, [], p, MON_9), closed, roster(), p, MON_9)
    assert decision.actions == ()
    assert decision.state.state is Phase.CLOSED


def test_crmsyncs_own_recycle_is_not_checked():
    """3.6: a lead crmsync recycled carries its reason; it is left with the holding owner."""
    p = policy()
    recycled = lead(owner=QUEUE, status="Recycled", reason="Recycled: no first touch after 2 reassignments")
    working = derive(None, lead(owner=ANA, status="Working"), [], p, MON_9)
    decision = decide(derive(working, recycled, [], p, MON_9 + HOUR), recycled, roster(), p, MON_9 + HOUR)
    assert decision.actions == ()
    assert decision.state.state is Phase.RECYCLED
