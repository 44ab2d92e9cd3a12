"""Ownership spells: the stretches of time one rep owned a lead, with the touches they made in it. Pure.

A lead's assignment history is a sequence of events. An event of kind route, reassign, seen or reopen that
gives the lead to a rep starts a spell (a repeated event for the same owner continues it); any later event
that gives the lead to someone else, or hides or recycles it, ends it. A rep who owned the lead before its
first recorded event (crmsync records no entry when it first sees an ownership) gets a spell from the lead's
``assigned_at`` (or its creation when the lead has moved on since). Only the owner's own outbound
email, calls and meetings inside the spell count as its touches (DESIGN §3.4); automated email counts only
when the policy says so; nothing after ``now`` counts.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from crmsync.reports.compute.facts import ActivityFacts, AssignmentFacts, LeadHistory

OWNING_KINDS = frozenset({"route", "reassign", "seen", "reopen"})
TOUCH_CHANNELS = ("email", "call", "meeting")


@dataclass(frozen=True, slots=True)
class Spell:
    """One rep's ownership of one lead: ``[start, end)``, ``end`` None while it lasts."""

    owner_id: str
    start: datetime
    start_kind: str
    rule: str | None
    end: datetime | None
    end_kind: str | None
    end_reason: str | None
    touches: tuple[ActivityFacts, ...]

    def covers(self, instant: datetime) -> bool:
        """True when ``instant`` falls in the spell, its end included (a close is the owner's last act)."""
        return self.start <= instant and (self.end is None or instant <= self.end)


@dataclass(slots=True)
class _Open:
    owner_id: str
    start: datetime
    kind: str
    rule: str | None


def is_touch(activity: ActivityFacts, count_automated: bool, channels: Collection[str] = TOUCH_CHANNELS) -> bool:
    """An outbound email, call or meeting in ``channels``; automated email only when ``count_automated``."""
    if activity.direction != "outbound" or activity.channel not in TOUCH_CHANNELS or activity.channel not in channels:
        return False
    return count_automated or not (activity.automated and activity.channel == "email")


def spells_of(
    history: LeadHistory,
    is_rep: Callable[[str | None], bool],
    now: datetime,
    count_automated: bool = False,
    channels: Collection[str] = TOUCH_CHANNELS,
) -> list[Spell]:
    """The rep spells of ``history`` in time order, with the touches of each (events after ``now`` ignored).

    ``count_automated`` and ``channels`` are the lead's SLA tier's say on which touches count.
    """
    events = sorted((e for e in history.assignments if e.at <= now), key=lambda e: e.at)
    touches = sorted(
        (a for a in history.activities if a.occurred_at <= now and is_touch(a, count_automated, channels)),
        key=lambda a: a.occurred_at,
    )
    events = _with_implicit_start(history, events, is_rep, now)
    spells: list[Spell] = []
    current: _Open | None = None
    for event in events:
        owning = event.kind in OWNING_KINDS and is_rep(event.owner_id) and event.owner_id is not None
        if current is not None and owning and event.owner_id == current.owner_id:
            continue
        if current is not None:
            spells.append(_close(current, event, touches))
            current = None
        if owning and event.owner_id is not None:
            current = _Open(event.owner_id, event.at, event.kind, event.rule)
    if current is not None:
        spells.append(_close(current, None, touches))
    return spells


def _with_implicit_start(
    history: LeadHistory, events: list[AssignmentFacts], is_rep: Callable[[str | None], bool], now: datetime
) -> list[AssignmentFacts]:
    """``events`` with a ``seen`` entry first when a rep owned the lead before its first recorded event.

    crmsync records no entry when it first sees a rep's ownership: the lead's ``assigned_at`` holds that
    instant while the rep still owns it, else its creation is the best bound left. Not when that ownership
    was of a non-MQL (hidden first, or no MQL and no history).
    """
    lead = history.lead
    if (not events and not lead.mql) or (events and events[0].kind == "hide"):
        return events  # the rep held a lead that was no MQL then: not an ownership the SLA covers
    if not events:
        owner, start = lead.owner_id, lead.assigned_at or lead.created_at
    else:
        owner, first = events[0].previous_owner_id, events[0].at
        if owner == lead.owner_id and lead.assigned_at is not None and lead.assigned_at < first:
            start = lead.assigned_at
        else:
            start = min(lead.created_at, first)
    if (
        owner is None
        or not is_rep(owner)
        or start > now
        or (events and owner == events[0].owner_id and events[0].kind != "reopen")
    ):
        return events
    return [AssignmentFacts(lead.lead_id, owner, None, "seen", start), *events]


def _close(spell: _Open, ended_by: AssignmentFacts | None, touches: list[ActivityFacts]) -> Spell:
    end = ended_by.at if ended_by is not None else None
    own = tuple(
        t
        for t in touches
        if t.owner_id == spell.owner_id and t.occurred_at >= spell.start and (end is None or t.occurred_at < end)
    )
    return Spell(
        owner_id=spell.owner_id,
        start=spell.start,
        start_kind=spell.kind,
        rule=spell.rule,
        end=end,
        end_kind=ended_by.kind if ended_by is not None else None,
        end_reason=ended_by.reason if ended_by is not None else None,
        touches=own,
    )
