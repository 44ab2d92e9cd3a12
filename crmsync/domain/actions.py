"""The closed set of things crmsync may do in a CRM.

Each action is a frozen value decided by the pure engine and carried, unchanged, through the outbox to a CRM
adapter. ``expected_owner_id`` is the premise the decision rested on: the dispatcher re-reads the lead's
current owner just before applying, and drops the action when the owner changed meanwhile. Dispatch over
:data:`Action` is a ``match`` ending in ``assert_never``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import assert_never

from crmsync.domain.model import Channel, Direction, LeadRef


@dataclass(frozen=True, slots=True)
class Assign:
    """Route an MQL to a rep (from the holding owner or nobody)."""

    lead: LeadRef
    owner_id: str
    expected_owner_id: str | None
    rule: str
    reason: str
    status_text: str
    due_at: datetime | None


@dataclass(frozen=True, slots=True)
class Reassign:
    """Move a lead after an SLA breach to the next eligible rep."""

    lead: LeadRef
    owner_id: str
    expected_owner_id: str | None
    reason: str
    reassignment_count: int
    status_text: str
    due_at: datetime | None


@dataclass(frozen=True, slots=True)
class Hide:
    """Park a non-MQL with the holding owner, so reps do not see it."""

    lead: LeadRef
    holding_owner_id: str
    expected_owner_id: str | None
    status_text: str


@dataclass(frozen=True, slots=True)
class Recycle:
    """Send a lead back to the holding owner with the recycle status and a disposition reason."""

    lead: LeadRef
    holding_owner_id: str
    expected_owner_id: str | None
    status: str
    reason: str


@dataclass(frozen=True, slots=True)
class SetDisposition:
    """Write a disposition reason to the mapped field (on crmsync's own closes, or to fill a missing one)."""

    lead: LeadRef
    reason: str


@dataclass(frozen=True, slots=True)
class Reopen:
    """Undo an early close: restore the previous status and owner and say why."""

    lead: LeadRef
    status: str
    owner_id: str
    expected_owner_id: str | None
    message: str


@dataclass(frozen=True, slots=True)
class Flag:
    """Keep an early close but mark it; the manager gets a task through a :class:`CreateTask`."""

    lead: LeadRef
    message: str


@dataclass(frozen=True, slots=True)
class CreateTask:
    """A CRM task for a rep or manager about this lead ("Reassigned to you: ..., first touch due ...").

    ``after`` is the outbox key of the move the task announces, if any: the task is created only once that
    move has landed, and never when it was skipped or refused (a rep must not be told "Reassigned to you" about
    a lead they do not own).
    """

    lead: LeadRef
    owner_id: str
    subject: str
    description: str
    due_at: datetime | None
    after: str | None = None


@dataclass(frozen=True, slots=True)
class LogActivity:
    """Log a captured email or meeting on the lead, exactly once, keyed by ``capture_key``."""

    lead: LeadRef
    capture_key: str
    owner_id: str | None
    channel: Channel
    direction: Direction
    occurred_at: datetime
    subject: str
    body: str | None
    duration_minutes: int | None = None


Action = Assign | Reassign | Hide | Recycle | SetDisposition | Reopen | Flag | CreateTask | LogActivity


def action_lead(action: Action) -> LeadRef:
    """The lead an action is about."""
    return action.lead


def moves_owner(action: Action) -> str | None:
    """The owner an action would give the lead, or ``None`` if it does not change the owner."""
    match action:
        case Assign(owner_id=owner) | Reassign(owner_id=owner) | Reopen(owner_id=owner):
            return owner
        case Hide(holding_owner_id=owner) | Recycle(holding_owner_id=owner):
            return owner
        case SetDisposition() | Flag() | CreateTask() | LogActivity():
            return None
        case _:
            assert_never(action)
