"""The derived SLA state of one lead, and :func:`derive`, which updates it from a fresh CRM snapshot. Pure.

The state is what crmsync remembers between cycles about a lead's ownership and effort: when the current
owner's clock started, how often and how they touched it, replies, reassignments, closes. :func:`derive` is
deterministic and idempotent: it recounts touches from every known activity of the lead, so feeding it the same
snapshot twice changes nothing.

Ownership changes are recognised against :attr:`LeadState.pending`, the move crmsync last decided: when the CRM
shows the lead with the pending move's owner, the move landed (a reassignment is counted, the clock starts at the
decision's instant); any other owner change was made by someone else and the clock starts when it was seen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from crmsync.domain import Activity, Channel, Lead
from crmsync.engine.compiled import EnginePolicy, TouchRules, prepare
from crmsync.policy import Policy


class Phase(StrEnum):
    """Where a lead stands in crmsync's eyes (persisted as ``LeadRow.state``)."""

    NEW = "new"  # derived, not yet decided
    HIDDEN = "hidden"  # not an MQL, parked with the holding owner
    WAITING = "waiting"  # an MQL with a holding owner or nobody, waiting for a rep
    ASSIGNED = "assigned"  # a rep owns it, first touch not yet made
    WORKING = "working"  # first touch made, cadence under way
    COMPLETED = "completed"  # cadence completed, waiting for a reply until the window ends
    REPLIED = "replied"  # the lead replied: nothing more is enforced but the first touch
    LAPSED = "lapsed"  # window over without a completed cadence; no more deadlines
    CLOSED = "closed"  # a closed status (by a rep, with an accepted reason, or by crmsync)
    RECYCLED = "recycled"  # sent back to the holding owner by crmsync
    UNMANAGED = "unmanaged"  # owned by a queue crmsync does not manage
    STOPPED = "stopped"  # converted or deleted: every clock stopped
    SKIPPED = "skipped"  # bad input; see the decision's reason


class MoveKind(StrEnum):
    """Why crmsync moves a lead (also the ``AssignmentRow.kind`` it records)."""

    ROUTE = "route"
    REASSIGN = "reassign"
    HIDE = "hide"
    RECYCLE = "recycle"
    REOPEN = "reopen"
    WAIT = "wait"  # a breach with nobody eligible: the lead waits with the team's holding owner


@dataclass(frozen=True, slots=True)
class Pending:
    """A move crmsync decided and has not yet seen land: the lead should end up with ``owner_id``."""

    kind: MoveKind
    owner_id: str
    at: datetime
    status: str | None = None


@dataclass(frozen=True, slots=True)
class LeadState:
    """The derived SLA state of one lead.

    The first group of fields maps one-to-one onto the ``LeadRow`` derived-state columns (see
    :meth:`columns`); the rest (:meth:`extras`) has no column yet and is kept as one JSON value.
    ``owner_id`` is the owner the clock belongs to; ``assigned_at`` when that owner's clock started;
    touches count only that owner's touches since ``assigned_at`` that the SLA tier counts.
    """

    mql: bool | None = None
    state: Phase = Phase.NEW
    sla_tier: str | None = None
    assigned_at: datetime | None = None
    first_touch_at: datetime | None = None
    touches_email: int = 0
    touches_call: int = 0
    touches_meeting: int = 0
    last_touch_at: datetime | None = None
    replied_at: datetime | None = None
    reply_count: int = 0
    reassignment_count: int = 0
    previous_owners: tuple[str, ...] = ()
    closed_at: datetime | None = None
    disposition: str | None = None
    due_at: datetime | None = None
    policy_hash: str | None = None
    # -- extras (no LeadRow column yet) --
    owner_id: str | None = None
    status: str | None = None
    epoch: int = 0
    pending: Pending | None = None
    open_status: str | None = None
    open_owner_id: str | None = None
    close_count: int = 0
    closed_by_crmsync: bool = False
    flagged_close: int = 0
    restarted_at: datetime | None = None
    owner_touch_at: datetime | None = field(default=None)
    score: float | None = None
    grade: str | None = None

    @property
    def touches(self) -> int:
        """Counted touches on every channel."""
        return self.touches_email + self.touches_call + self.touches_meeting

    @property
    def channels_used(self) -> int:
        """How many channels have at least one counted touch."""
        return sum(1 for n in (self.touches_email, self.touches_call, self.touches_meeting) if n)

    def columns(self) -> dict[str, Any]:
        """The values of the ``LeadRow`` derived-state columns (``state`` as its string value)."""
        return {
            "mql": self.mql,
            "state": self.state.value,
            "sla_tier": self.sla_tier,
            "assigned_at": self.assigned_at,
            "first_touch_at": self.first_touch_at,
            "touches_email": self.touches_email,
            "touches_call": self.touches_call,
            "touches_meeting": self.touches_meeting,
            "last_touch_at": self.last_touch_at,
            "replied_at": self.replied_at,
            "reply_count": self.reply_count,
            "reassignment_count": self.reassignment_count,
            "previous_owners": list(self.previous_owners),
            "closed_at": self.closed_at,
            "disposition": self.disposition,
            "due_at": self.due_at,
            "policy_hash": self.policy_hash,
        }

    def extras(self) -> dict[str, Any]:
        """The fields without a column, as JSON-ready values (datetimes in ISO 8601)."""
        pending = self.pending
        return {
            "owner_id": self.owner_id,
            "status": self.status,
            "epoch": self.epoch,
            "pending": None
            if pending is None
            else {
                "kind": pending.kind.value,
                "owner_id": pending.owner_id,
                "at": pending.at.isoformat(),
                "status": pending.status,
            },
            "open_status": self.open_status,
            "open_owner_id": self.open_owner_id,
            "close_count": self.close_count,
            "closed_by_crmsync": self.closed_by_crmsync,
            "flagged_close": self.flagged_close,
            "restarted_at": _iso(self.restarted_at),
            "owner_touch_at": _iso(self.owner_touch_at),
            "score": self.score,
            "grade": self.grade,
        }

    @classmethod
    def from_stored(cls, columns: Mapping[str, Any], extras: Mapping[str, Any]) -> LeadState:
        """Rebuild a state from :meth:`columns` and :meth:`extras` as stored (the inverse of both)."""
        raw = extras.get("pending")
        pending = (
            Pending(MoveKind(raw["kind"]), str(raw["owner_id"]), _parse(raw["at"]), raw.get("status"))
            if isinstance(raw, Mapping)
            else None
        )
        return cls(
            mql=columns.get("mql"),
            state=Phase(columns.get("state") or Phase.NEW.value),
            sla_tier=columns.get("sla_tier"),
            assigned_at=columns.get("assigned_at"),
            first_touch_at=columns.get("first_touch_at"),
            touches_email=int(columns.get("touches_email") or 0),
            touches_call=int(columns.get("touches_call") or 0),
            touches_meeting=int(columns.get("touches_meeting") or 0),
            last_touch_at=columns.get("last_touch_at"),
            replied_at=columns.get("replied_at"),
            reply_count=int(columns.get("reply_count") or 0),
            reassignment_count=int(columns.get("reassignment_count") or 0),
            previous_owners=tuple(columns.get("previous_owners") or ()),
            closed_at=columns.get("closed_at"),
            disposition=columns.get("disposition"),
            due_at=columns.get("due_at"),
            policy_hash=columns.get("policy_hash"),
            owner_id=extras.get("owner_id"),
            status=extras.get("status"),
            epoch=int(extras.get("epoch") or 0),
            pending=pending,
            open_status=extras.get("open_status"),
            open_owner_id=extras.get("open_owner_id"),
            close_count=int(extras.get("close_count") or 0),
            closed_by_crmsync=bool(extras.get("closed_by_crmsync")),
            flagged_close=int(extras.get("flagged_close") or 0),
            restarted_at=_parse_opt(extras.get("restarted_at")),
            owner_touch_at=_parse_opt(extras.get("owner_touch_at")),
            score=extras.get("score"),
            grade=extras.get("grade"),
        )


_FIELDS: tuple[str, ...] = tuple(LeadState.__dataclass_fields__)
_DEFAULTS: dict[str, Any] = {name: getattr(LeadState(), name) for name in _FIELDS}


def evolve(current: LeadState, /, **changes: Any) -> LeadState:
    """``dataclasses.replace`` for :class:`LeadState`, several times faster (it is on the engine's hot path)."""
    values = {name: getattr(current, name) for name in _FIELDS}
    values.update(changes)
    return LeadState(**values)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse(value: object) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError("stored engine state holds a naive datetime")
    return parsed


def _parse_opt(value: object) -> datetime | None:
    return None if value is None else _parse(value)


def derive(
    previous: LeadState | None,
    lead: Lead,
    activities: Sequence[Activity],
    policy: Policy | EnginePolicy,
    now: datetime,
) -> LeadState:
    """The lead's state after seeing ``lead`` and ``activities`` at ``now``, under ``policy``.

    ``previous`` is the stored state (None the first time crmsync sees the lead). ``activities`` are every
    activity known for this lead, in any order (touches are recounted, never added up): only the current
    owner's outbound touches since ``assigned_at``, on the channels the lead's SLA tier counts, automated
    emails only where the tier says so; inbound mail counts as replies. The clock starts when the lead is
    assigned to its current owner: at the pending move's instant when crmsync's move landed, else at ``now``
    (first seen with that owner). Converted and deleted leads get :attr:`Phase.STOPPED`. With a ``scoring``
    section, the lead's score and grade are computed here (from its fields and every activity) and kept in the
    state: :func:`~crmsync.engine.decide.decide` evaluates conditions with that score. Never raises for a
    well-typed lead; :func:`~crmsync.engine.decide.decide` then sets ``mql``, ``state`` and ``due_at``.
    """
    ep = prepare(policy)
    scored = ep.score(lead.fields, activities, now)
    fields = ep.fields_for(lead.fields, scored.total if scored is not None else None)
    tier = ep.tier_for(fields)
    state = derive_with(previous, lead, activities, now, ep.closed, ep.rules_for(tier), ep.disposition_field)
    if scored is not None:
        state = evolve(state, score=scored.total, grade=scored.grade)
    return state


def derive_with(
    previous: LeadState | None,
    lead: Lead,
    activities: Sequence[Activity],
    now: datetime,
    closed_statuses: frozenset[str],
    touch_rules: TouchRules,
    disposition_field: str | None,
) -> LeadState:
    """:func:`derive` with the policy's closed statuses, touch rules and disposition field given directly.

    Works on one dict of field values and builds the state once (this runs for every changed lead).
    """
    if previous is None:
        v = dict(_DEFAULTS, owner_id=lead.owner_id, status=lead.status)
        if lead.owner_id is not None:
            v["assigned_at"] = now
    else:
        v = {name: getattr(previous, name) for name in _FIELDS}
    if lead.owner_id != v["owner_id"]:
        _owner_changed(v, lead.owner_id, now)
    _status_seen(v, lead, now, closed_statuses, disposition_field)
    _recount(v, activities, touch_rules)
    if lead.stopped:
        v.update(state=Phase.STOPPED, pending=None, due_at=None)
    return LeadState(**v)


def _owner_changed(v: dict[str, Any], owner_id: str | None, now: datetime) -> None:
    pending: Pending | None = v["pending"]
    landed = pending if pending is not None and pending.owner_id == owner_id else None
    previous: tuple[str, ...] = v["previous_owners"]
    if v["owner_id"] is not None and v["owner_id"] not in previous:
        previous = (*previous, v["owner_id"])
    epoch = v["epoch"] + 1
    if landed is not None and landed.kind is MoveKind.REOPEN:
        v.update(owner_id=owner_id, epoch=epoch, restarted_at=landed.at)
        return
    reassignments: int = v["reassignment_count"]
    if landed is not None and landed.kind in (MoveKind.REASSIGN, MoveKind.WAIT):
        reassignments += 1
    recycled = landed is not None and landed.kind is MoveKind.RECYCLE
    if recycled:  # the end of this lead's run: a re-qualified lead starts afresh
        previous, reassignments = (), 0
    v.update(
        owner_id=owner_id,
        assigned_at=None if owner_id is None else (landed.at if landed is not None else now),
        previous_owners=previous,
        reassignment_count=reassignments,
        epoch=epoch,
        pending=None if landed is not None else pending,
        closed_by_crmsync=recycled or v["closed_by_crmsync"],
        restarted_at=None,
    )


def _status_seen(
    v: dict[str, Any], lead: Lead, now: datetime, closed_statuses: frozenset[str], disposition_field: str | None
) -> None:
    pending: Pending | None = v["pending"]
    if lead.status in closed_statuses:
        if v["closed_at"] is None:
            by_us = pending is not None and pending.kind is MoveKind.RECYCLE and pending.status == lead.status
            v.update(closed_at=now, close_count=v["close_count"] + 1, closed_by_crmsync=by_us or v["closed_by_crmsync"])
        reason = lead.fields.get(disposition_field) if disposition_field else None
        text = str(reason).strip() if isinstance(reason, str | int | float) else ""
        v.update(status=lead.status, disposition=text or v["disposition"])
        return
    if v["closed_at"] is not None:
        restarted = pending.at if pending is not None and pending.kind is MoveKind.REOPEN else now
        v.update(closed_at=None, closed_by_crmsync=False, restarted_at=restarted)
    if pending is not None and pending.kind is MoveKind.REOPEN and pending.owner_id == lead.owner_id:
        v["pending"] = None
    v.update(status=lead.status, open_status=lead.status, open_owner_id=lead.owner_id)


def _recount(v: dict[str, Any], activities: Sequence[Activity], rules: TouchRules) -> None:
    counts = {Channel.EMAIL: 0, Channel.CALL: 0, Channel.MEETING: 0}
    first: datetime | None = None
    last: datetime | None = None
    owner_last: datetime | None = None
    replied: datetime | None = None
    replies = 0
    owner, since = v["owner_id"], v["assigned_at"]
    for activity in activities:
        if activity.is_reply:
            replies += 1
            if replied is None or activity.occurred_at > replied:
                replied = activity.occurred_at
            continue
        if not activity.is_touch or owner is None or activity.owner_id != owner:
            continue
        if activity.channel not in rules.channels or (activity.automated and not rules.count_automated):
            continue
        if owner_last is None or activity.occurred_at > owner_last:
            owner_last = activity.occurred_at
        if since is None or activity.occurred_at < since:
            continue
        counts[activity.channel] += 1
        first = activity.occurred_at if first is None or activity.occurred_at < first else first
        last = activity.occurred_at if last is None or activity.occurred_at > last else last
    v.update(
        touches_email=counts[Channel.EMAIL],
        touches_call=counts[Channel.CALL],
        touches_meeting=counts[Channel.MEETING],
        first_touch_at=first,
        last_touch_at=last,
        owner_touch_at=owner_last,
        replied_at=replied,
        reply_count=replies,
    )
