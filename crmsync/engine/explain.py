"""What a decision rests on, for ``plan``, ``explain`` and the assignment history. Pure values.

An :class:`Explanation` is built for every decision, whether it acts or not; :func:`render` turns it into the
lines ``crmsync explain`` prints, with deadlines in the owner's local time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from crmsync.domain import LeadRef


@dataclass(frozen=True, slots=True)
class Candidate:
    """One rep routing considered: eligible, or skipped with every reason that applied."""

    owner_id: str | None
    email: str
    skipped: tuple[str, ...] = ()
    open_leads: int = 0
    assigned_today: int = 0

    @property
    def eligible(self) -> bool:
        """True when nothing ruled the rep out."""
        return not self.skipped

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict (for ``AssignmentRow.candidates``)."""
        return {
            "owner_id": self.owner_id,
            "email": self.email,
            "eligible": self.eligible,
            "skipped": list(self.skipped),
            "open_leads": self.open_leads,
            "assigned_today": self.assigned_today,
        }


@dataclass(frozen=True, slots=True)
class AssignmentRecord:
    """One ownership change a decision makes (maps onto ``AssignmentRow``).

    ``kind`` is a :class:`~crmsync.engine.state.MoveKind` value; ``rule``/``method``/``team`` are the routing
    rule that picked the rep (None for hide/recycle/reopen); ``candidates`` every rep considered, in order.
    ``pointer`` is the team's routing pointer after this pick.
    """

    kind: str
    owner_id: str
    previous_owner_id: str | None
    reason: str
    rule: str | None = None
    method: str | None = None
    team: str | None = None
    candidates: tuple[Candidate, ...] = ()
    pointer: int | None = None


@dataclass(frozen=True, slots=True)
class Deadline:
    """One SLA deadline: when it falls, whether it was met (and when), in the owner's timezone."""

    name: str
    due_at: datetime
    met_at: datetime | None
    timezone: str

    def status(self, now: datetime) -> str:
        """``met``, ``open`` or ``breached`` at ``now``."""
        if self.met_at is not None and self.met_at <= self.due_at:
            return "met"
        return "breached" if now >= self.due_at else "open"

    def local(self) -> str:
        """The deadline in the owner's timezone, e.g. ``Mon 2026-03-02 15:00 EST``."""
        return local_time(self.due_at, self.timezone)


def local_time(instant: datetime, timezone: str) -> str:
    """``instant`` as ``Mon 2026-03-02 15:00 EST`` in ``timezone``."""
    return instant.astimezone(ZoneInfo(timezone)).strftime("%a %Y-%m-%d %H:%M %Z")


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a lead is where it is and what happens next.

    ``rules`` lists what matched, in order (qualification, routing rule, SLA tier, disposition checks);
    ``deadlines`` the clock of the current owner; ``candidates`` the reps routing considered (if it ran);
    ``next_event``/``next_at`` the next thing that happens without new data, and when.
    """

    lead: LeadRef
    phase: str
    mql: bool | None
    owner_id: str | None
    rules: tuple[str, ...] = ()
    tier: str | None = None
    timezone: str | None = None
    assigned_at: datetime | None = None
    deadlines: tuple[Deadline, ...] = ()
    touches: Mapping[str, int] = field(default_factory=dict)
    candidates: tuple[Candidate, ...] = ()
    outcome: str = ""
    next_event: str | None = None
    next_at: datetime | None = None


def render(explanation: Explanation, now: datetime) -> list[str]:
    """The explanation as the text lines ``crmsync explain`` prints."""
    e = explanation
    tz = e.timezone or "UTC"
    lines = [f"lead {e.lead}: {e.phase}" + (f" (owner {e.owner_id})" if e.owner_id else " (no owner)")]
    lines.append(f"  MQL: {'yes' if e.mql else 'no' if e.mql is not None else 'unknown'}")
    lines.extend(f"  rule: {rule}" for rule in e.rules)
    if e.tier:
        lines.append(f"  SLA tier: {e.tier} (owner's time zone {tz})")
    if e.assigned_at is not None:
        lines.append(f"  clock started: {local_time(e.assigned_at, tz)}")
    for d in e.deadlines:
        status = d.status(now)
        shown = f"met {local_time(d.met_at, tz)}" if status == "met" and d.met_at else status
        lines.append(f"  {d.name}: due {d.local()} [{shown}]")
    if e.touches:
        lines.append("  touches: " + ", ".join(f"{n} {channel}" for channel, n in e.touches.items()))
    for c in e.candidates:
        verdict = "eligible" if c.eligible else "skipped: " + "; ".join(c.skipped)
        lines.append(f"  candidate {c.email}: {verdict} (open {c.open_leads}, today {c.assigned_today})")
    if e.outcome:
        lines.append(f"  decision: {e.outcome}")
    if e.next_event:
        when = f" at {local_time(e.next_at, tz)}" if e.next_at else ""
        lines.append(f"  next: {e.next_event}{when}")
    return lines
