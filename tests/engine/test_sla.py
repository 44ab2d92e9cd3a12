"""DESIGN §3.4 SLA clocks: business-time deadlines in the owner's calendar, what counts as a touch, replies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crmsync.domain import Channel
from crmsync.engine import Phase

from .helpers import ANA, BEN, HOUR, MON_9, lead, policy, reply, run, touch

DEMO = "Demo Request"


def utc(*args: int) -> datetime:
    """An aware UTC instant."""
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("source", "seen", "due", "pol"),
    [
        # Mon 09:00 EST + 1h → Mon 10:00 EST
        (DEMO, utc(2026, 3, 2, 14), utc(2026, 3, 2, 15), None),
        # Mon 16:30 EST + 1h: 30 min Monday, 30 min Tuesday → Tue 09:30 EST
        (DEMO, utc(2026, 3, 2, 21, 30), utc(2026, 3, 3, 14, 30), None),
        # seen at night (Mon 20:00 EST) → the clock runs from Tue 09:00 → Tue 10:00 EST
        (DEMO, utc(2026, 3, 3, 1), utc(2026, 3, 3, 15), None),
        # Fri 16:30 EST + 1h → Mon 09:30, and the US moved to EDT on Sun 8 March → 13:30 UTC
        (DEMO, utc(2026, 3, 6, 21, 30), utc(2026, 3, 9, 13, 30), None),
        # Thu 2 July 16:30 EDT + 1h; Fri 3 July is Independence Day (observed) → Mon 6 July 09:30 EDT
        (DEMO, utc(2026, 7, 2, 20, 30), utc(2026, 7, 6, 13, 30), None),
        # default tier, 1d = one working day (8h): Mon 14:00 EST → Tue 14:00 EST
        ("Web", utc(2026, 3, 2, 19), utc(2026, 3, 3, 19), None),
        # 1d from Mon 09:00 ends at the close of Monday, 17:00 EST
        ("Web", utc(2026, 3, 2, 14), utc(2026, 3, 2, 22), None),
        # Ana works in London (09-17 GMT): Mon 16:30 GMT + 1h → Tue 09:30 GMT
        (
            DEMO,
            utc(2026, 3, 2, 16, 30),
            utc(2026, 3, 3, 9, 30),
            policy(teams={"sdr": {"members": [{"email": "ana@acme.test", "timezone": "Europe/London"}]}}),
        ),
        # calendar time counts the night: "calendar 2h" from Mon 16:30 EST → 18:30 EST
        (
            "Web",
            utc(2026, 3, 2, 21, 30),
            utc(2026, 3, 2, 23, 30),
            policy(sla=[{"name": "fast", "first_touch": "calendar 2h"}]),
        ),
    ],
    ids=[
        "3.4-first-touch-same-day",
        "3.4-first-touch-across-a-night",
        "3.4-first-touch-seen-outside-hours",
        "3.4-first-touch-across-a-weekend-and-dst",
        "3.4-first-touch-across-a-public-holiday",
        "3.4-first-touch-one-business-day",
        "3.4-business-day-ends-at-close-of-business",
        "3.4-deadline-in-the-owners-timezone",
        "3.4-calendar-duration-is-elapsed-time",
    ],
)
def test_first_touch_deadline_is_business_time_in_the_owners_calendar(source, seen, due, pol):
    """The first-touch deadline is the tier's duration added in the owner's business calendar."""
    decision = run(lead(owner=ANA, source=source), seen, pol=pol)
    assert decision.actions == ()
    assert decision.due_at == due
    assert decision.explanation.deadlines[0].due_at == due


def _cadence(channels: list[Channel], start: datetime = MON_9) -> list:
    """Ana's touches, one per business day from Mon 10:00 EST (two on the first day)."""
    days = [0, 0, 1, 2, 3, 4, 7, 8]
    return [
        touch(ANA, start.replace(day=start.day + days[i]) + HOUR * (1 + (i == 1)), channel)
        for i, channel in enumerate(channels)
    ]


E, C = Channel.EMAIL, Channel.CALL
MIXED = [E, C, E, C, E, E]  # 4 emails, 2 calls: the demo tier's 6 touches with 2 calls + 3 emails
# demo window 10d from Mon 2 March 09:00 EST: ten working days → Fri 13 March 17:00 EDT = 21:00 UTC
WINDOW_END = utc(2026, 3, 13, 21)


@pytest.mark.parametrize(
    ("channels", "extra", "now", "phase", "due"),
    [
        (MIXED, [], utc(2026, 3, 10, 14), Phase.COMPLETED, WINDOW_END),
        # 6 emails: the mix (2 calls) is not met, so the gap rule still runs: last touch Fri 6 March 10:00 EST
        # + 2d (16 working hours) → Tue 10 March 10:00 EDT = 14:00 UTC
        ([E] * 6, [], utc(2026, 3, 9, 14), Phase.WORKING, utc(2026, 3, 10, 14)),
        # a reply stops "unresponsive": nothing more is due
        (MIXED, [reply(utc(2026, 3, 11, 15))], utc(2026, 3, 11, 16), Phase.REPLIED, None),
        # three touches, then a reply: no gap deadline either
        ([E, C, E], [reply(utc(2026, 3, 4, 15))], utc(2026, 3, 4, 16), Phase.REPLIED, None),
    ],
    ids=[
        "3.4-channel-mix-met-waits-for-window-end",
        "3.4-channel-mix-not-met-keeps-gap-clock",
        "3.4-reply-stops-unresponsive",
        "3.4-reply-stops-gap-clock",
    ],
)
def test_follow_up_cadence_and_channel_mix(channels, extra, now, phase, due):
    """Follow-up: N touches with a channel mix within the window; a reply stops the cadence clocks."""
    decision = run(lead(owner=ANA, source=DEMO), now, _cadence(channels) + extra, first_seen=MON_9)
    assert decision.actions == ()
    assert decision.state.state is phase
    assert decision.due_at == due


@pytest.mark.parametrize(
    ("activity", "pol", "counted"),
    [
        (touch(ANA, MON_9 + HOUR / 2), None, 1),
        (touch(ANA, MON_9 + HOUR / 2, automated=True), None, 0),
        (
            touch(ANA, MON_9 + HOUR / 2, automated=True),
            policy(sla=[{"name": "all", "first_touch": "1h", "count_automated": True}]),
            1,
        ),
        (touch(BEN, MON_9 + HOUR / 2), None, 0),
        (touch(ANA, MON_9 - HOUR), None, 0),
        (touch(ANA, MON_9 + HOUR / 2, Channel.OTHER), None, 0),
        (reply(MON_9 + HOUR / 2), None, 0),
    ],
    ids=[
        "3.4-owner-touch-after-assignment-counts",
        "3.4-automated-email-excluded",
        "3.4-automated-email-counts-where-policy-says",
        "3.4-other-reps-touch-does-not-count",
        "3.4-touch-before-assignment-does-not-count",
        "3.4-other-activity-is-not-a-touch",
        "3.4-inbound-mail-is-a-reply-not-a-touch",
    ],
)
def test_only_the_current_owners_countable_touches_after_assignment_count(activity, pol, counted):
    """Touches count only when by the current owner, after the assignment, and not automated (unless allowed)."""
    decision = run(lead(owner=ANA, source=DEMO), MON_9 + HOUR / 2, [activity], pol=pol, first_seen=MON_9)
    assert decision.state.touches == counted
    assert (decision.state.first_touch_at is not None) == bool(counted)


def test_replies_are_recorded():
    """Inbound mail sets replied_at and reply_count."""
    replies = [reply(MON_9 + HOUR), reply(MON_9 + 2 * HOUR)]
    decision = run(lead(owner=ANA), MON_9 + 3 * HOUR, replies, first_seen=MON_9)
    assert (decision.state.replied_at, decision.state.reply_count) == (MON_9 + 2 * HOUR, 2)
