"""Visibility (DESIGN §3.2): reps see only MQLs. Pure.

- Not an MQL, owned by a rep or by nobody → :class:`~crmsync.domain.Hide` with the qualification holding
  owner and a status saying why ("not MQL: score 42 < 60"), unless the owner is actively working it (a
  counted touch within the tier's gap): then it stays until that gap runs out.
- Not an MQL with a holding owner → stays hidden. With a queue crmsync does not manage → left alone.
- MQLs with a holding owner or nobody are routed (:mod:`crmsync.engine.assign`); an MQL a rep owns stays with
  them, its clock running from when crmsync first saw that ownership (:mod:`crmsync.engine.state`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crmsync.domain import Hide
from crmsync.engine.compiled import EnginePolicy, Fields
from crmsync.engine.decision import Plan
from crmsync.engine.state import LeadState, MoveKind, Phase
from crmsync.policy.sections import SlaTier


@dataclass(frozen=True, slots=True)
class Qualified:
    """Whether a lead is an MQL, and if not, why (the failing parts of the rule)."""

    mql: bool
    why_not: str = ""

    @property
    def status_text(self) -> str:
        """The crmsync status written on a hidden lead: ``not MQL: score 42 < 60``."""
        return f"not MQL: {self.why_not}" if self.why_not else "not MQL"


def qualify(ep: EnginePolicy, fields: Fields) -> Qualified:
    """Apply the qualification rule to a lead's fields (with crmsync's score when the policy scores)."""
    if ep.is_mql(fields):
        return Qualified(True)
    return Qualified(False, ep.mql_why(fields))


def active_until(ep: EnginePolicy, state: LeadState, tier: SlaTier | None, email: str | None) -> datetime | None:
    """Until when the owner counts as actively working the lead (None: not touched by the owner)."""
    if state.owner_touch_at is None:
        return None
    if tier is None:
        return None
    gap = tier.follow_up.max_gap if tier.follow_up and tier.follow_up.max_gap else tier.first_touch
    return ep.calendar(email).add(state.owner_touch_at, gap)


def hide(plan: Plan, qualified: Qualified, holding_id: str, owner_email: str | None) -> None:
    """Hide a non-MQL a rep (``owner_email``) or nobody owns, unless the rep is actively working it."""
    lead, now = plan.lead, plan.now
    until = active_until(plan.ep, plan.state, plan.tier, owner_email) if lead.owner_id is not None else None
    if until is not None and now < until:
        plan.outcome = f"kept with its owner, who is working it ({qualified.status_text})"
        plan.set(Phase.WORKING, until, "hidden unless the owner touches it again")
        return
    plan.add(Hide(lead.ref, holding_id, lead.owner_id, qualified.status_text))
    plan.move(MoveKind.HIDE, holding_id, qualified.status_text)
    plan.outcome = f"hide: {qualified.status_text}"
    plan.set(Phase.HIDDEN)
