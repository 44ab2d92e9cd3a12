"""The result of deciding one lead (:class:`Decision`), and the builder the deciding modules fill in. Pure.

A :class:`Decision` is what the sync cycle persists and enqueues: the actions with their idempotency keys and
priorities, the new :class:`~crmsync.engine.state.LeadState` (with ``due_at``), the assignment records and the
:class:`~crmsync.engine.explain.Explanation`. A lead that cannot be decided (bad input) has ``skipped`` set,
no actions, and its previous state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crmsync.domain import Action, Lead, LeadRef
from crmsync.engine.compiled import EnginePolicy
from crmsync.engine.explain import AssignmentRecord, Candidate, Explanation
from crmsync.engine.keys import action_key
from crmsync.engine.roster import Roster
from crmsync.engine.state import LeadState, MoveKind, Pending, Phase, evolve
from crmsync.outbox.codec import kind_of
from crmsync.outbox.model import priority_of
from crmsync.policy.sections import RoutingRule, SlaTier


@dataclass(frozen=True, slots=True)
class Planned:
    """An action with its outbox idempotency ``key`` (see :mod:`crmsync.engine.keys`), ``kind`` and ``priority``."""

    action: Action
    key: str
    kind: str
    priority: int


@dataclass(frozen=True, slots=True)
class Decision:
    """Everything decided about one lead at one instant.

    ``state`` is the state to store (``state.due_at``: when to decide again without new data; None: only on
    change). ``assignments`` the ownership changes with rule, method and candidates. ``skipped``: why the lead
    could not be decided (bad input; counted by the caller). ``problems``: policy or roster defects met on the
    way (a team member who is not a CRM user...), reported but not fatal. ``overflow``: an MQL waits because no
    rep had capacity.
    """

    lead: LeadRef
    actions: tuple[Planned, ...]
    state: LeadState
    assignments: tuple[AssignmentRecord, ...]
    explanation: Explanation
    skipped: str | None = None
    problems: tuple[str, ...] = ()
    overflow: bool = False

    @property
    def due_at(self) -> datetime | None:
        """The next instant this lead must be decided again if nothing changes."""
        return self.state.due_at


@dataclass(slots=True)
class Plan:
    """A decision under construction (local to one call of ``decide``; never shared).

    ``state`` is the derived state the decision reads (as :func:`~crmsync.engine.state.derive` left it); what
    the decision sets (``mql``, ``sla_tier``, phase, ``due_at``, the pending move...) goes to ``changes`` and is
    applied once, by :meth:`result`.
    """

    ep: EnginePolicy
    lead: Lead
    state: LeadState
    roster: Roster
    now: datetime
    actions: list[Planned] = field(default_factory=list)
    assignments: list[AssignmentRecord] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    candidates: tuple[Candidate, ...] = ()
    outcome: str = ""
    next_event: str | None = None
    overflow: bool = False
    prior: Pending | None = None
    timezone: str | None = None
    tier: SlaTier | None = None
    rule: RoutingRule | None = None
    changes: dict[str, Any] = field(default_factory=dict)

    def result(self) -> LeadState:
        """The new state: the derived one with this decision's changes (phase, due, pending move...)."""
        return evolve(self.state, **self.changes)

    def add(self, action: Action, extra: str = "") -> None:
        """Plan ``action`` with its idempotency key (epoch of the current state, plus ``extra``)."""
        kind = kind_of(action)
        key = action_key(self.lead.ref, kind, self.state.epoch, extra)
        self.actions.append(Planned(action, key, kind, priority_of(action)))

    def move(
        self,
        kind: MoveKind,
        owner_id: str,
        reason: str,
        status: str | None = None,
        record: AssignmentRecord | None = None,
    ) -> None:
        """Record that the planned actions move the lead to ``owner_id``: the pending move and its history entry.

        A move already pending (same kind and owner, decided in an earlier cycle and not landed yet) keeps its
        original instant, so the clock of the new owner starts when the move was first decided, and is not
        recorded again (its history entry and the loads it moved were counted when it was first decided).
        """
        prior = self.prior
        if prior is not None and (prior.kind, prior.owner_id) == (kind, owner_id):
            self.changes["pending"] = prior  # decided before: its history entry and load are already counted
            return
        self.changes["pending"] = Pending(kind, owner_id, self.now, status)
        self.assignments.append(record or AssignmentRecord(kind.value, owner_id, self.lead.owner_id, reason))

    def set(self, phase: Phase, due_at: datetime | None = None, next_event: str | None = None) -> None:
        """Set the new phase, the next due instant and what happens then."""
        self.changes.update(state=phase, due_at=due_at)
        self.next_event = next_event if due_at is not None or next_event else None
