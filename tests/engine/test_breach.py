"""DESIGN §3.5 breach, reassignment and recycle, with the new owner's task and the recycle reason."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from crmsync.domain import Channel, CreateTask, Reassign, Recycle, SetDisposition
from crmsync.engine import Phase, decide, derive

from .helpers import ANA, BEN, CAM, HOUR, MON_9, QUEUE, kinds, lead, policy, roster, run, touch

DEMO = "Demo Request"


def utc(*args: int) -> datetime:
    """An aware UTC instant."""
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_missed_first_touch_reassigns_to_the_next_rep_with_a_task():
    """3.5: at the first-touch deadline the lead goes to the next eligible rep, who gets a task saying why."""
    decision = run(lead(owner=ANA, source=DEMO), MON_9 + HOUR, first_seen=MON_9)
    assert kinds(decision) == ["reassign", "createtask"]
    move, task = (p.action for p in decision.actions)
    assert isinstance(move, Reassign)
    assert isinstance(task, CreateTask)
    assert (move.owner_id, move.expected_owner_id, move.reassignment_count) == (BEN, ANA, 1)
    assert move.reason == "no first touch within 1h"
    # the new owner's clock starts now (Mon 10:00 EST): first touch due 11:00 EST
    assert move.due_at == MON_9 + 2 * HOUR
    assert task.owner_id == BEN
    assert task.description == "Reassigned to you: no first touch within 1h, first touch due Mon 2026-03-02 11:00 EST"
    assert decision.state.due_at == MON_9 + 2 * HOUR
    assert decision.assignments[0].kind == "reassign"
    assert next(c.skipped for c in decision.assignments[0].candidates) == ("current owner",)


def test_no_breach_before_the_deadline():
    """3.5: a minute before the deadline nothing happens and the lead is due at the deadline."""
    decision = run(lead(owner=ANA, source=DEMO), MON_9 + HOUR - HOUR / 60, first_seen=MON_9)
    assert decision.actions == ()
    assert decision.due_at == MON_9 + HOUR


def test_previous_owners_are_excluded_from_reassignment():
    """3.3/3.5: a rep who owned the lead before is not eligible when it is reassigned."""
    p = policy()
    earlier = derive(None, lead(owner=BEN, source=DEMO), [], p, MON_9 - HOUR)
    state = derive(earlier, lead(owner=ANA, source=DEMO), [], p, MON_9)
    assert state.previous_owners == (BEN,)
    decision = decide(state, lead(owner=ANA, source=DEMO), roster(), p, MON_9 + HOUR)
    assert decision.actions[0].action.owner_id == CAM  # type: ignore[union-attr]
    reasons = {c.email: c.skipped for c in decision.explanation.candidates}
    assert reasons["ben@acme.test"] == ("previous owner",)


def test_gap_between_touches_is_a_breach():
    """3.5: after the first touch, no touch within max_gap (3d default tier) reassigns the lead."""
    activities = [touch(ANA, MON_9 + HOUR)]
    # Mon 10:00 EST + 3 business days (24 working hours) → Thu 10:00 EST = 15:00 UTC
    quiet = run(lead(owner=ANA), utc(2026, 3, 5, 14, 59), activities, first_seen=MON_9)
    assert quiet.actions == ()
    assert quiet.due_at == utc(2026, 3, 5, 15)
    decision = run(lead(owner=ANA), utc(2026, 3, 5, 15), activities, first_seen=MON_9)
    assert kinds(decision) == ["reassign", "createtask"]
    assert decision.actions[0].action.reason == "no touch for 3d"  # type: ignore[union-attr]


def test_after_max_reassignments_the_next_breach_recycles_with_the_reason():
    """3.5: with 2 reassignments used, a breach recycles: holding owner, recycle status, reason as disposition."""
    p = policy()
    state = derive(None, lead(owner=ANA, source=DEMO), [], p, MON_9)
    state = replace(state, reassignment_count=2, previous_owners=(BEN, CAM))
    decision = decide(state, lead(owner=ANA, source=DEMO), roster(), p, MON_9 + HOUR)
    reason = "Recycled: no first touch after 2 reassignments"
    assert [p.action for p in decision.actions] == [
        Recycle(lead().ref, QUEUE, ANA, "Recycled", reason),
        SetDisposition(lead().ref, reason),
    ]
    assert decision.state.state is Phase.RECYCLED


def test_breach_with_nobody_eligible_waits_with_the_holding_owner():
    """3.3/3.5: a breach with every other rep at capacity moves the lead to the holding owner: "no capacity"."""
    full = roster(today={BEN: 20, CAM: 20})
    decision = run(lead(owner=ANA, source=DEMO), MON_9 + HOUR, first_seen=MON_9, the_roster=full)
    assert kinds(decision) == ["reassign"]
    move = decision.actions[0].action
    assert isinstance(move, Reassign)
    assert move.owner_id == QUEUE
    assert move.status_text == "waiting: no capacity after breach (no first touch within 1h)"
    assert decision.overflow
    assert decision.state.state is Phase.WAITING


@pytest.mark.parametrize(
    ("channels", "now", "expected"),
    [
        ([Channel.EMAIL, Channel.CALL, Channel.EMAIL, Channel.CALL, Channel.EMAIL, Channel.EMAIL], utc(2026, 3, 13, 21),
         "Unresponsive: cadence completed (4 emails, 2 calls)"),
        ([Channel.EMAIL, Channel.CALL, Channel.EMAIL, Channel.CALL, Channel.EMAIL, Channel.EMAIL],
         utc(2026, 3, 13, 20, 59), None),
    ],
    ids=["3.5-cadence-done-no-reply-is-unresponsive", "3.5-not-before-window-end"],
)  # fmt: skip
def test_completed_cadence_without_reply_is_disposed_unresponsive(channels, now, expected):
    """3.5: N touches with the mix and no reply by the window's end → "Unresponsive" disposition and recycle."""
    days = [0, 0, 1, 2, 3, 4]
    activities = [
        touch(ANA, MON_9.replace(day=2 + days[i]) + HOUR * (1 + (i == 1)), ch) for i, ch in enumerate(channels)
    ]
    decision = run(lead(owner=ANA, source=DEMO), now, activities, first_seen=MON_9)
    if expected is None:
        assert decision.actions == ()
        return
    assert [p.action for p in decision.actions] == [
        Recycle(lead().ref, QUEUE, ANA, "Recycled", expected),
        SetDisposition(lead().ref, expected),
    ]


def test_breach_never_moves_a_lead_the_owner_is_working():
    """3.2/3.4: a touch by the owner just before the clock started protects the lead for the tier's gap."""
    activities = [touch(ANA, MON_9 - HOUR)]  # Mon 08:00 EST, before the clock started at 09:00
    decision = run(lead(owner=ANA, source=DEMO), MON_9 + HOUR, activities, first_seen=MON_9)
    assert decision.actions == ()
    # 2d = 16 working hours after Mon 08:00 (i.e. from Mon 09:00) → Tue 17:00 EST = 22:00 UTC
    assert decision.due_at == utc(2026, 3, 3, 22)
