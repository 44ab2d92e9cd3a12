"""``decide``: one lead's actions, new state and explanation; ``decide_all``: a batch as a pure fold. Pure.

The order of questions for one lead (DESIGN §3.2–3.6):

1. bad input (missing ids, naive times, an unknown or inactive owner, an unresolved holding owner) → skipped;
2. converted or deleted → nothing, every clock stopped;
3. closed status → :mod:`.dispositions` (accept, reopen or flag); recycled by crmsync → left in holding;
4. not an MQL → :mod:`.visibility` (hide unless held already or actively worked);
5. an MQL with a holding owner or nobody → :mod:`.assign` (route, or wait: "no capacity");
6. an MQL a rep owns → :mod:`.sla` clock; a due event → :mod:`.breach`.

``decide`` never raises for bad data: it returns a skipped :class:`Decision` with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from crmsync.domain import Lead, OwnerKind
from crmsync.engine.assign import give
from crmsync.engine.breach import on_due
from crmsync.engine.compiled import EnginePolicy, prepare
from crmsync.engine.decision import Decision, Plan
from crmsync.engine.dispositions import on_close
from crmsync.engine.explain import Deadline, Explanation
from crmsync.engine.roster import Roster, shift
from crmsync.engine.sla import clock
from crmsync.engine.state import LeadState, Phase, evolve
from crmsync.engine.visibility import Qualified, hide, qualify
from crmsync.policy import Policy

BAD_INPUT = (ValueError, LookupError, TypeError, AttributeError, ArithmeticError)
"""What odd data can raise inside the engine (CalendarError is a ValueError); turned into a skipped decision."""


def decide(state: LeadState, lead: Lead, roster: Roster, policy: Policy | EnginePolicy, now: datetime) -> Decision:
    """Decide what crmsync does about ``lead`` at ``now``.

    ``state`` is the lead's state as :func:`~crmsync.engine.state.derive` left it this cycle; ``roster`` the
    reps, loads, pointers and resolved holding owners; ``policy`` a :class:`Policy` (prepared once and memoised)
    or an :class:`EnginePolicy`. Deterministic: the same arguments give an equal decision.
    """
    ep = prepare(policy)
    try:
        return _decide(ep, state, lead, roster, now)
    except BAD_INPUT as bad:
        return _skipped(ep, state, lead, f"cannot decide: {type(bad).__name__}: {bad}")


@dataclass(frozen=True, slots=True)
class Batch:
    """The decisions of a batch, the roster after them, and the counts a cycle reports."""

    decisions: tuple[Decision, ...]
    roster: Roster
    skipped: int = 0
    overflow: int = 0
    actions: int = 0
    problems: tuple[str, ...] = field(default=())


def decide_all(
    items: Iterable[tuple[LeadState, Lead]], roster: Roster, policy: Policy | EnginePolicy, now: datetime
) -> Batch:
    """Decide every lead in order, each seeing the loads and pointers the earlier ones consumed.

    A pure fold: ``roster`` is not changed; :attr:`Batch.roster` is the roster after the batch's assignments
    (open leads and today's counts moved, pointers advanced). Bad leads are skipped and counted; the rest go on.
    """
    ep = prepare(policy)
    open_leads, today, pointers = dict(roster.open_leads), dict(roster.assigned_today), dict(roster.pointers)
    working = roster.with_loads(open_leads, today, pointers)
    decisions: list[Decision] = []
    skipped = overflow = actions = 0
    problems: dict[str, None] = {}
    for state, lead in items:
        decision = decide(state, lead, working, ep, now)
        for record in decision.assignments:
            shift(open_leads, today, pointers, record.owner_id, record.previous_owner_id, record.team, record.pointer)
        decisions.append(decision)
        skipped += decision.skipped is not None
        overflow += decision.overflow
        actions += len(decision.actions)
        problems.update(dict.fromkeys(decision.problems))
    out = roster.with_loads(dict(open_leads), dict(today), dict(pointers))
    return Batch(tuple(decisions), out, skipped, overflow, actions, tuple(problems))


def _decide(ep: EnginePolicy, state: LeadState, lead: Lead, roster: Roster, now: datetime) -> Decision:
    bad = _bad_lead(lead, now)
    if bad is not None:
        return _skipped(ep, state, lead, bad)
    fields = ep.fields_for(lead.fields, state.score)
    qualified = qualify(ep, fields)
    tier = ep.tier_for(fields)
    plan = Plan(ep, lead, state, roster, now, prior=state.pending, tier=tier, rule=ep.rule_for(fields))
    plan.changes.update(
        policy_hash=ep.hash, pending=None, due_at=None, mql=qualified.mql, sla_tier=tier.name if tier else None
    )
    if lead.stopped:
        plan.outcome = "left alone: " + ("converted" if lead.converted else "deleted")
        plan.set(Phase.STOPPED)
        return _finish(plan, None, ())
    holding_name = ep.holding_owner
    holding = roster.holding_id(holding_name)
    if holding is None:
        return _skipped(ep, state, lead, f"holding owner {holding_name!r} is not resolved to a CRM owner")
    kind, email, problem = _owner_kind(lead, roster)
    if problem is not None:
        return _skipped(ep, state, lead, problem)
    plan.rules.append("qualification: MQL" if qualified.mql else f"qualification: {qualified.status_text}")
    tz, deadlines = _dispatch(plan, kind, email, qualified, holding)
    return _finish(plan, tz, deadlines)


def _dispatch(
    plan: Plan, kind: str, email: str | None, qualified: Qualified, holding: str
) -> tuple[str | None, tuple[Deadline, ...]]:
    """Steps 3-6 of the module docstring; returns the owner's timezone and deadlines when a clock ran."""
    lead, ep = plan.lead, plan.ep
    if kind == "holding" and lead.status in ep.recycle_statuses:
        plan.outcome = f"recycled, waits with the holding owner ({lead.status})"
        plan.set(Phase.RECYCLED)
    elif lead.status in ep.closed:
        on_close(plan)
    elif kind == "queue":
        plan.outcome = "left alone: a queue crmsync does not manage"
        plan.set(Phase.UNMANAGED)
    elif not qualified.mql:
        if kind == "holding":
            plan.outcome = f"hidden ({qualified.status_text})"
            plan.set(Phase.HIDDEN)
        else:
            hide(plan, qualified, holding, email)
    elif kind in ("holding", "none"):
        give(plan)
    else:
        return _enforce(plan, email)
    return None, ()


def _enforce(plan: Plan, email: str | None) -> tuple[str | None, tuple[Deadline, ...]]:
    ep, state, tier = plan.ep, plan.state, plan.tier
    if tier is None or state.assigned_at is None:
        plan.rules.append("SLA: no tier matches")
        plan.outcome = "owned by a rep; no SLA applies"
        plan.set(Phase.WORKING if state.first_touch_at else Phase.ASSIGNED)
        return None, ()
    plan.rules.append(f"SLA tier: {tier.name!r}")
    c = clock(plan.state, tier, ep.calendar(email), plan.now)
    if c.due is not None:
        on_due(plan, c.due)
    else:
        plan.outcome = f"kept with its owner ({c.phase.value})"
        plan.set(c.phase, c.next.at if c.next else None, _next_words(c.next.kind.value) if c.next else None)
    return c.timezone, c.deadlines


def _next_words(kind: str) -> str:
    return {
        "first_touch": "breach: no first touch",
        "gap": "breach: gap between touches",
        "unresponsive": "recycle as unresponsive",
        "window": "follow-up window ends",
    }[kind]


def _owner_kind(lead: Lead, roster: Roster) -> tuple[str, str | None, str | None]:
    """(``none``/``holding``/``queue``/``rep``, the rep's email, a problem that makes the lead undecidable)."""
    owner_id = lead.owner_id
    if owner_id is None:
        return "none", None, None
    if roster.is_holding(owner_id):
        return "holding", None, None
    owner = roster.owners.get(owner_id)
    if owner is None:
        return "rep", None, f"owner {owner_id} is unknown"
    if owner.kind is OwnerKind.QUEUE:
        return "queue", None, None
    if not owner.active:
        return "rep", None, f"owner {owner_id} is inactive in the CRM"
    return "rep", owner.email, None


def _bad_lead(lead: Lead, now: datetime) -> str | None:
    if now.tzinfo is None:
        return "now is a naive datetime"
    ref = lead.ref
    lead_id: object = ref.lead_id
    if not isinstance(lead_id, str) or not lead_id.strip() or not ref.connection:
        return "lead has no id"
    owner: object = lead.owner_id
    if owner is not None and (not isinstance(owner, str) or not owner.strip()):
        return f"lead {lead_id} has an odd owner id"
    status: object = lead.status
    if status is not None and not isinstance(status, str):
        return f"lead {lead_id} has an odd status of type {type(status).__name__}"
    fields: object = lead.fields
    if not isinstance(fields, Mapping):
        return f"lead {ref.lead_id} has fields of type {type(fields).__name__}"
    stamps: tuple[object, ...] = (lead.created_at, lead.modified_at)
    for stamp in stamps:
        if not isinstance(stamp, datetime) or stamp.tzinfo is None:
            return f"lead {ref.lead_id} has a missing or naive timestamp"
    return None


def _skipped(ep: EnginePolicy, state: LeadState, lead: Lead, reason: str) -> Decision:
    kept = evolve(state, state=Phase.SKIPPED, due_at=None, policy_hash=ep.hash)
    explanation = Explanation(lead.ref, Phase.SKIPPED.value, state.mql, lead.owner_id, outcome=f"skipped: {reason}")
    return Decision(lead.ref, (), kept, (), explanation, skipped=reason)


def _finish(plan: Plan, tz: str | None, deadlines: tuple[Deadline, ...]) -> Decision:
    state = plan.result()
    touches = {"email": state.touches_email, "call": state.touches_call, "meeting": state.touches_meeting}
    explanation = Explanation(
        lead=plan.lead.ref,
        phase=state.state.value,
        mql=state.mql,
        owner_id=plan.lead.owner_id,
        rules=tuple(plan.rules),
        tier=state.sla_tier,
        timezone=plan.timezone or tz or str(plan.ep.calendar(None).tz),
        assigned_at=state.assigned_at if deadlines else None,
        deadlines=deadlines,
        touches=touches,
        candidates=plan.candidates,
        outcome=plan.outcome,
        next_event=plan.next_event,
        next_at=state.due_at,
    )
    return Decision(
        plan.lead.ref,
        tuple(plan.actions),
        state,
        tuple(plan.assignments),
        explanation,
        problems=tuple(plan.problems),
        overflow=plan.overflow,
    )
