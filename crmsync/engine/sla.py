"""SLA clocks (DESIGN §3.4): deadlines in the owner's business time, breaches, and the next instant. Pure.

For a lead a rep owns, with its tier (the first whose condition matches), the clock starts at
``assigned_at`` (restarted by a reopen) and yields, in the owner's :class:`BusinessCalendar`:

- first touch due ``add(start, first_touch)``; missed → a ``first_touch`` breach;
- once touched, while the cadence is incomplete and the lead has not replied: a ``gap`` breach
  ``add(last touch, max_gap)`` after the last counted touch;
- the cadence (``touches`` N with the ``mix``) completed and no reply by the window's end
  (``add(start, within)``) → ``unresponsive``.

Nothing moves a lead its owner is actively working: no breach falls before ``add(last owner touch, gap)``
(``gap`` is the tier's ``max_gap``, else its ``first_touch``), counting the owner's touches from before the
assignment too. Every event instant is fixed by the inputs, so a breach never "un-happens" as ``now`` grows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from crmsync.engine.explain import Deadline
from crmsync.engine.state import LeadState, Phase
from crmsync.policy import BusinessCalendar
from crmsync.policy.sections import FollowUp, SlaTier


class BreachKind(StrEnum):
    """What a due SLA event is."""

    FIRST_TOUCH = "first_touch"
    GAP = "gap"
    UNRESPONSIVE = "unresponsive"
    WINDOW = "window"  # the window ends with an incomplete cadence: the lead lapses, nothing moves


@dataclass(frozen=True, slots=True)
class Event:
    """An SLA event of the current owner's clock: its kind, its instant and a reason in words."""

    kind: BreachKind
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Clock:
    """The owner's SLA clock at ``now``: deadlines, the due event (if any) and the next one."""

    tier: SlaTier
    timezone: str
    start: datetime
    deadlines: tuple[Deadline, ...]
    phase: Phase
    due: Event | None
    next: Event | None
    completed: bool
    replied: bool


def mix_met(state: LeadState, follow_up: FollowUp) -> bool:
    """Whether the counted touches reach the cadence's number and channel mix."""
    mix = follow_up.mix
    return (
        state.touches >= follow_up.touches
        and state.touches_call >= mix.calls
        and state.touches_email >= mix.emails
        and state.touches_meeting >= mix.meetings
    )


def clock(state: LeadState, tier: SlaTier, calendar: BusinessCalendar, now: datetime) -> Clock:
    """The clock of ``state``'s owner under ``tier`` at ``now``; requires ``state.assigned_at``."""
    start = state.assigned_at
    assert start is not None, "a clock needs an assignment instant"
    base = max(start, state.restarted_at) if state.restarted_at else start
    tz = str(calendar.tz)
    first_due = calendar.add(base, tier.first_touch)
    follow = tier.follow_up
    grace = follow.max_gap if follow is not None and follow.max_gap is not None else tier.first_touch
    touched = max(t for t in (state.owner_touch_at, state.restarted_at) if t) if _any(state) else None
    guard = calendar.add(touched, grace) if touched is not None else None
    replied = state.replied_at is not None and state.replied_at >= start
    deadlines = [Deadline("first touch", first_due, state.first_touch_at, tz)]
    events: list[Event] = []
    completed = False
    phase = Phase.ASSIGNED
    if state.first_touch_at is None:
        events.append(
            Event(BreachKind.FIRST_TOUCH, _later(first_due, guard), f"no first touch within {tier.first_touch}")
        )
    elif follow is not None:
        phase, completed = _follow_up(state, follow, calendar, start, base, guard, replied, now, deadlines, events)
    else:
        phase = Phase.REPLIED if replied else Phase.WORKING
    events.sort(key=lambda e: e.at)
    due = next((e for e in events if e.at <= now and e.kind is not BreachKind.WINDOW), None)
    upcoming = next((e for e in events if e.at > now), None)
    if due is None and any(e.kind is BreachKind.WINDOW and e.at <= now for e in events):
        phase = Phase.LAPSED
    return Clock(tier, tz, start, tuple(deadlines), phase, due, None if due else upcoming, completed, replied)


def _any(state: LeadState) -> bool:
    return state.owner_touch_at is not None or state.restarted_at is not None


def _later(a: datetime, b: datetime | None) -> datetime:
    return a if b is None or a >= b else b


def _follow_up(
    state: LeadState,
    follow: FollowUp,
    calendar: BusinessCalendar,
    start: datetime,
    base: datetime,
    guard: datetime | None,
    replied: bool,
    now: datetime,
    deadlines: list[Deadline],
    events: list[Event],
) -> tuple[Phase, bool]:
    window_end = calendar.add(start, follow.within)
    completed = mix_met(state, follow)
    deadlines.append(
        Deadline(f"{follow.touches} touches", window_end, state.last_touch_at if completed else None, str(calendar.tz))
    )
    if replied:
        return Phase.REPLIED, completed
    if completed:
        reason = "cadence completed"
        events.append(Event(BreachKind.UNRESPONSIVE, _later(window_end, guard), reason))
        return Phase.COMPLETED, True
    if follow.max_gap is not None and state.last_touch_at is not None:
        last = max(state.last_touch_at, base)
        gap_due = calendar.add(last, follow.max_gap)
        deadlines.append(Deadline("next touch (max gap)", gap_due, None, str(calendar.tz)))
        events.append(Event(BreachKind.GAP, _later(gap_due, guard), f"no touch for {follow.max_gap}"))
    else:
        events.append(Event(BreachKind.WINDOW, window_end, "follow-up window ends"))
    return Phase.WORKING, False
