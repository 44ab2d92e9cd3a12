"""Breach, reassignment and recycle (DESIGN §3.5). Pure.

A due ``first_touch`` or ``gap`` event is a breach: the lead goes to the next eligible rep (previous owners and
the current one excluded) with a task for them, or waits with the team's holding owner when nobody is eligible.
Once ``max_reassignments`` reassignments have happened, the next breach recycles the lead instead: the
qualification holding owner, the policy's recycle status, and the recycle reason (a template with
``{reassignments}``, ``{touches}``, ``{emails}``, ``{calls}``, ``{meetings}``, ``{tier}``, ``{team}``) written
as its disposition. A completed cadence with no reply by the window's end (``unresponsive``) is recycled
the same way with the ``unresponsive`` status and reason.
"""

from __future__ import annotations

from crmsync.domain import Recycle, SetDisposition
from crmsync.engine.assign import give
from crmsync.engine.decision import Plan
from crmsync.engine.sla import BreachKind, Event
from crmsync.engine.state import MoveKind, Phase
from crmsync.policy.sections import StatusAndReason


def on_due(plan: Plan, event: Event) -> None:
    """Act on the owner's due SLA event (a breach or an unresponsive cadence)."""
    on_breach = plan.ep.on_breach
    if event.kind is BreachKind.UNRESPONSIVE:
        recycle(plan, on_breach.unresponsive, "unresponsive")
        return
    plan.rules.append(
        f"breach: {event.reason} (reassignment {plan.state.reassignment_count} of {on_breach.max_reassignments})"
    )
    if plan.state.reassignment_count >= on_breach.max_reassignments:
        recycle(plan, on_breach.recycle, event.reason)
        return
    give(plan, event.reason)


def recycle(plan: Plan, what: StatusAndReason, why: str) -> None:
    """Send the lead back to the qualification holding owner with ``what``'s status and formatted reason."""
    lead, roster = plan.lead, plan.roster
    holding_name = plan.ep.holding_owner
    holding = roster.holding_id(holding_name)
    if holding is None:
        plan.problems.append(f"holding owner {holding_name!r} is not resolved to a CRM owner")
        plan.outcome = f"should recycle ({why}) but the holding owner is unknown: left with its owner"
        plan.set(Phase.WORKING)
        return
    reason = format_reason(plan, what.reason)
    plan.add(Recycle(lead.ref, holding, lead.owner_id, what.status, reason))
    plan.add(SetDisposition(lead.ref, reason))
    plan.move(MoveKind.RECYCLE, holding, reason, what.status)
    plan.rules.append(f"recycle: {why}")
    plan.outcome = f"recycle to {holding_name}: {reason}"
    plan.set(Phase.RECYCLED)


def format_reason(plan: Plan, template: str) -> str:
    """``template`` with the lead's numbers filled in (left as written if it names an unknown placeholder)."""
    state = plan.state
    tier, rule = plan.tier, plan.rule
    values = {
        "reassignments": state.reassignment_count,
        "touches": state.touches,
        "emails": state.touches_email,
        "calls": state.touches_call,
        "meetings": state.touches_meeting,
        "tier": tier.name if tier else "",
        "team": rule.team if rule else "",
    }
    try:
        return template.format_map(values)
    except (KeyError, ValueError, IndexError):
        return template
