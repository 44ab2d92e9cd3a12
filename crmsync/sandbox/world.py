"""One vendor's copy of the simulated sales floor: lead state, rep work queues, touches, replies, meetings.

A :class:`World` owns no randomness of the people (the :class:`~crmsync.sandbox.simulation.Simulation`
generates leads once and hands them to every world); it has its own seeded RNG for rep behaviour, so two
worlds given the same leads behave identically until something outside (crmsync, through the API) changes
one of them. Ownership is read back from the org: a listener on the org moves a lead to its new owner's
work queue when anyone reassigns it, and a rep re-checks that a lead is still open before touching it.

Rep behaviour per working hour (their time zone, 9:00–17:00, Monday–Friday): pop due leads from the rep's
queue (earliest due first), up to the hourly share of the daily capacity; first touch moves the lead to
working; follow-ups after 1, 2, 4 and 7 days; five unanswered touches close it as "No Response" (a
cherry-picker never closes, and silently skips leads that are not attractive; a rep on leave does nothing).
A touch is answered with probability ``intent × speed × 0.75^(touches-1)``, where ``speed`` rewards a fast
first touch (2.5× within an hour … 0.5× after three days); a reply may book a meeting 1–3 days later, and a
held meeting converts with a probability that also grows with that speed.
"""

from __future__ import annotations

import heapq
import random
from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from crmsync.sandbox.mapping import Person, Rep, Stage, Touch, VendorWriter

HOUR = timedelta(hours=1)
FOLLOW_UP_DAYS = (1, 2, 4, 7)
MAX_TOUCHES = 5
NEW, WORKING, REPLIED, CONVERTED, CLOSED = range(5)


class Personality(StrEnum):
    """How a rep works their leads."""

    DILIGENT = "diligent"
    CHERRY_PICKER = "cherry_picker"
    OVERLOADED = "overloaded"
    ON_LEAVE = "on_leave"
    DEPARTED = "departed"
    """Worked diligently, then left: deactivated in the CRM halfway through history, still owning leads."""


CAPACITY = {Personality.DILIGENT: 40, Personality.CHERRY_PICKER: 40, Personality.OVERLOADED: 12,
            Personality.ON_LEAVE: 0, Personality.DEPARTED: 40}  # fmt: skip
"""Touches a rep makes on a working day."""
LOGS_EMAIL = {Personality.DILIGENT: 0.9, Personality.CHERRY_PICKER: 0.5, Personality.OVERLOADED: 0.3,
              Personality.ON_LEAVE: 0.0, Personality.DEPARTED: 0.9}  # fmt: skip
"""Chance a rep logs a sent email in the CRM (every email reaches the mailbox; capture fills the gap)."""


@dataclass
class Tally:
    """What happened in one world (for reports and the demo's before/after)."""

    leads: int = 0
    touches: int = 0
    logged: int = 0
    replies: int = 0
    meetings: int = 0
    conversions: int = 0
    closed: int = 0
    by_rep: dict[str, dict[str, int]] = field(default_factory=dict)

    def bump(self, rep: str, what: str) -> None:
        setattr(self, what, getattr(self, what) + 1)
        counts = self.by_rep.setdefault(rep, {})
        counts[what] = counts.get(what, 0) + 1


Sink = Callable[[str, Rep, Touch, str, bool], None]
"""``sink(kind, rep, touch, lead_email, inbound)``: where mail and meetings go for capture (kind email/meeting)."""


class World:
    """The simulated floor over one vendor org (callers hold ``writer.org.lock`` while stepping)."""

    def __init__(
        self, writer: VendorWriter, reps: Sequence[tuple[Rep, Personality]], seed: int, sink: Sink | None = None
    ) -> None:
        self.writer = writer
        self.reps = list(reps)
        self.rng = random.Random(seed)
        self.sink = sink
        self.tally = Tally()
        self.rep_ids: list[str] = []
        self.rep_index: dict[str, int] = {}
        self.queue_id = ""
        self.ids: list[str] = []
        self.index: dict[str, int] = {}
        self.emails: list[str] = []
        self.owner = array("h")
        self.stage = bytearray()
        self.touches = bytearray()
        self.speed = bytearray()
        self.created = array("l")
        self.due: list[list[tuple[int, int, int]]] = []
        self.meetings: list[tuple[int, int, int]] = []
        self.gone: set[int] = set()
        self.intent = array("f")
        self.picky_ok = bytearray()
        self._capacity_left = [0.0] * len(self.reps)
        self._touch_seq = 0
        self._hour_now = 0
        writer.org.listeners.append(self._on_change)

    def setup(self, now: datetime) -> None:
        """Create the reps and the holding queue in the org."""
        for rep, _ in self.reps:
            rid = self.writer.add_rep(rep, now)
            self.rep_index[rid] = len(self.rep_ids)
            self.rep_ids.append(rid)
            self.due.append([])
        self.queue_id = self.writer.add_queue("Lead Holding", now)

    def deactivate(self, rep: int, now: datetime) -> None:
        """Rep number ``rep`` leaves: deactivated in the CRM, works no more, keeps owning their leads."""
        self.writer.deactivate_rep(self.rep_ids[rep], now)
        self.gone.add(rep)

    # -- inflow -------------------------------------------------------------------------------------------
    def add_lead(self, person: Person, rep: int, at: datetime, hour: int, intent: float, picky_ok: bool) -> None:
        """Create a lead owned by rep number ``rep`` (created at ``at``, which falls in hour ``hour``)."""
        lead_id = self.writer.add_lead(person, self.rep_ids[rep], at)
        i = len(self.ids)
        self.ids.append(lead_id)
        self.index[lead_id] = i
        self.emails.append(person.email)
        self.owner.append(rep)
        self.stage.append(NEW)
        self.touches.append(0)
        self.speed.append(10)
        self.created.append(hour)
        self.intent.append(intent)
        self.picky_ok.append(picky_ok)
        heapq.heappush(self.due[rep], (hour, hour, i))
        self.tally.leads += 1

    def _on_change(self, obj: str, record_id: str, values: Mapping[str, Any]) -> None:
        """Follow owner changes made by anyone (crmsync through the API included)."""
        if obj != self.writer.lead_obj or self.writer.owner_field not in values:
            return
        i = self.index.get(record_id)
        if i is None:
            return
        new = self.rep_index.get(str(values[self.writer.owner_field]), -1)
        if new != self.owner[i]:
            self.owner[i] = new
            if new >= 0 and self.stage[i] < CONVERTED:
                heapq.heappush(self.due[new], (self._hour_now, self.created[i], i))

    # -- one hour -----------------------------------------------------------------------------------------
    def step(self, hour: int, start: datetime, working: Sequence[bool]) -> None:
        """Simulate hour number ``hour`` beginning at ``start``; ``working[r]`` says whether rep r works now."""
        self._hour_now = hour
        while self.meetings and self.meetings[0][0] <= hour:
            _, i, r = heapq.heappop(self.meetings)
            self._hold_meeting(i, r, start)
        for r, (_, personality) in enumerate(self.reps):
            if not working[r] or personality is Personality.ON_LEAVE or r in self.gone:
                continue
            self._capacity_left[r] += CAPACITY[personality] / 8
            while self._capacity_left[r] >= 1 and self.due[r] and self.due[r][0][0] <= hour:
                _, _, i = heapq.heappop(self.due[r])
                if self._touch(i, r, hour, start):
                    self._capacity_left[r] -= 1
            self._capacity_left[r] = min(self._capacity_left[r], 1.0)

    def _touch(self, i: int, r: int, hour: int, start: datetime) -> bool:
        """Touch lead i if rep r still owns it, it is open and the rep wants it; True when a touch happened."""
        rep, personality = self.reps[r]
        if self.owner[i] != r or self.stage[i] >= CONVERTED:
            return False
        if personality is Personality.CHERRY_PICKER and not self.picky_ok[i]:
            return False
        lead_id = self.ids[i]
        if not self.writer.is_open(lead_id):
            self.stage[i] = CLOSED
            return False
        n = self.touches[i]
        if n == 0:
            delay = hour - self.created[i]
            self.speed[i] = 25 if delay <= 1 else 18 if delay <= 8 else 13 if delay <= 24 else 9 if delay <= 72 else 5
        channel = "call" if (n % 2 == 0) == (self.rng.random() < 0.55) else "email"
        at = start + timedelta(minutes=self.rng.randrange(60))
        self._log(i, r, Touch(channel, at, f"{channel.title()}: follow-up {n + 1}", 5 if channel == "call" else 0,
                              self._external_id()))  # fmt: skip
        self.touches[i] = n + 1
        if n == 0:
            self.writer.set_stage(lead_id, Stage.WORKING, at)
            self.stage[i] = WORKING
        if self.rng.random() < self.intent[i] * self.speed[i] / 10 * 0.75**n:
            self._reply(i, r, hour, at)
        elif n + 1 >= MAX_TOUCHES and personality is not Personality.CHERRY_PICKER:
            self.writer.set_stage(lead_id, Stage.CLOSED, at, "No Response")
            self.stage[i] = CLOSED
            self.tally.bump(rep.key, "closed")
        elif n + 1 < MAX_TOUCHES:
            heapq.heappush(self.due[r], (hour + 24 * FOLLOW_UP_DAYS[n], self.created[i], i))
        return True

    def _log(self, i: int, r: int, touch: Touch) -> None:
        rep, personality = self.reps[r]
        self.tally.bump(rep.key, "touches")
        logged = touch.channel == "call" or self.rng.random() < LOGS_EMAIL[personality]
        if logged:
            self.writer.log_touch(self.ids[i], self.rep_ids[r], touch)
            self.tally.logged += 1
        if self.sink is not None and touch.channel == "email":
            self.sink("email", rep, touch, self.emails[i], False)

    def _reply(self, i: int, r: int, hour: int, at: datetime) -> None:
        rep, _ = self.reps[r]
        self.stage[i] = REPLIED
        self.writer.set_stage(self.ids[i], Stage.REPLIED, at)
        self.tally.bump(rep.key, "replies")
        if self.sink is not None:
            reply = Touch("email", at + timedelta(minutes=30), "Re: follow-up", 0, self._external_id())
            self.sink("email", rep, reply, self.emails[i], True)
        if self.rng.random() < 0.55:
            heapq.heappush(self.meetings, (hour + 24 * self.rng.randint(1, 3), i, r))

    def _hold_meeting(self, i: int, r: int, start: datetime) -> None:
        if self.owner[i] != r or self.stage[i] >= CONVERTED or not self.writer.is_open(self.ids[i]):
            return
        rep, _ = self.reps[r]
        meeting = Touch("meeting", start, "Discovery call", 30, self._external_id())
        self.writer.log_touch(self.ids[i], self.rep_ids[r], meeting)
        self.tally.bump(rep.key, "meetings")
        if self.sink is not None:
            self.sink("meeting", rep, meeting, self.emails[i], False)
        if self.rng.random() < min(0.8, 0.25 * self.speed[i] / 10):
            self.writer.set_stage(self.ids[i], Stage.CONVERTED, start + timedelta(minutes=45))
            self.stage[i] = CONVERTED
            self.tally.bump(rep.key, "conversions")

    def _external_id(self) -> str:
        self._touch_seq += 1
        return f"<sim-{self._touch_seq}.{self.writer.lead_obj.lower()}@crmsync.sandbox>"
