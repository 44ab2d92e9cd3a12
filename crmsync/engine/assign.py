"""Giving a lead to a rep: the Assign/Reassign actions, the new owner's task, and waiting for capacity. Pure.

Both a first routing (an MQL with a holding owner or nobody) and a breach reassignment go through
:func:`give`: route by the first matching rule, then either move the lead to the picked rep with a CRM task
("Reassigned to you: <reason>, first touch due <time in the rep's timezone>"), or, when nobody is eligible,
let it wait with the team's holding owner (reason "no capacity", counted as overflow).
"""

from __future__ import annotations

from datetime import datetime

from crmsync.domain import Assign, CreateTask, Reassign
from crmsync.engine.decision import Plan
from crmsync.engine.explain import AssignmentRecord, local_time
from crmsync.engine.routing import NO_CAPACITY, Route, route
from crmsync.engine.state import MoveKind, Phase
from crmsync.policy.sections import RoutingRule


def give(plan: Plan, reason: str | None = None) -> bool:
    """Route the lead; ``reason`` set means a breach reassignment. False when no routing rule matches."""
    ep, lead, state = plan.ep, plan.lead, plan.state
    rule = plan.rule
    if rule is None:
        plan.problems.append("no routing rule matches the lead")
        plan.outcome = "waits: no routing rule matches"
        plan.set(Phase.WAITING)
        return False
    repeat = _repeat(plan, rule, reason)
    if repeat is not None:
        plan.rules.append(f"routing: {rule.name!r}: the move decided earlier is not applied yet, planned again")
        if repeat.owner_id is None or repeat.email is None:
            _wait(plan, repeat, reason)
        else:
            _to_rep(plan, repeat, repeat.owner_id, repeat.email, reason)
        return True
    current = lead.owner_id if reason is not None else None
    picked = route(ep, rule, plan.roster, plan.now, state.previous_owners, current)
    plan.rules.append(f"routing: {rule.name!r} → team {picked.team} ({rule.method})")
    plan.candidates = picked.candidates
    plan.problems.extend(picked.problems)
    if picked.owner_id is None or picked.email is None:
        _wait(plan, picked, reason)
    else:
        _to_rep(plan, picked, picked.owner_id, picked.email, reason)
    return True


def _repeat(plan: Plan, rule: RoutingRule, breach: str | None) -> Route | None:
    """The move an earlier cycle decided and the CRM does not show yet, re-planned to the same target.

    Routing again could pick another rep (pointers and loads moved on), but the outbox would drop that action
    as a duplicate of the first (same key) while loads and history counted both; so the first pick stands.
    """
    prior = plan.prior
    if prior is None or (prior.kind is MoveKind.ROUTE) != (breach is None):
        return None
    if prior.kind is MoveKind.WAIT:
        return Route(rule, rule.team, None, None, plan.roster.pointer(rule.team), ())
    owner = plan.roster.owners.get(prior.owner_id)
    if prior.kind not in (MoveKind.ROUTE, MoveKind.REASSIGN) or owner is None or not owner.active or not owner.email:
        return None
    return Route(rule, rule.team, owner.owner_id, owner.email, plan.roster.pointer(rule.team), ())


def first_touch_due(plan: Plan, email: str, start: datetime) -> datetime | None:
    """When a rep given the lead at ``start`` must first touch it (None: no SLA tier applies)."""
    tier = plan.tier
    return None if tier is None else plan.ep.calendar(email).add(start, tier.first_touch)


def _to_rep(plan: Plan, picked: Route, owner_id: str, email: str, breach: str | None) -> None:
    lead, now, state = plan.lead, plan.now, plan.state
    due = first_touch_due(plan, email, now)
    tz = plan.timezone = str(plan.ep.calendar(email).tz)
    due_text = f", first touch due {local_time(due, tz)}" if due else ""
    if breach is None:
        kind, purpose = MoveKind.ROUTE, "assign"
        text = f"Assigned to you: {picked.reason}{due_text}"
        plan.add(Assign(lead.ref, owner_id, lead.owner_id, picked.rule.name, picked.reason, text, due))
    else:
        kind, purpose = MoveKind.REASSIGN, "reassign"
        text = f"Reassigned to you: {breach}{due_text}"
        count = state.reassignment_count + 1
        plan.add(Reassign(lead.ref, owner_id, lead.owner_id, breach, count, text, due))
    move_key = plan.actions[-1].key  # the task announces this move: it is created only once the move landed
    plan.add(CreateTask(lead.ref, owner_id, text.split(",")[0], text, due, after=move_key), purpose)
    plan.move(
        kind, owner_id, breach or picked.reason, record=_record(plan, picked, kind, owner_id, breach or picked.reason)
    )
    plan.outcome = f"{purpose} to {email}: {breach or picked.reason}"
    plan.set(Phase.ASSIGNED, due, "first touch due")


def _wait(plan: Plan, picked: Route, breach: str | None) -> None:
    plan.overflow = True
    lead, roster = plan.lead, plan.roster
    holding_name = plan.ep.holding_for(picked.team)
    holding = roster.holding_id(holding_name)
    plan.set(Phase.WAITING, picked.retry_at, "routing again: a rep may become eligible")
    if breach is None or lead.owner_id is None:
        plan.outcome = f"waits: {NO_CAPACITY} in team {picked.team}"
        return
    if holding is None:
        plan.problems.append(f"holding owner {holding_name!r} is not resolved to a CRM owner")
        plan.outcome = f"breach ({breach}) but {NO_CAPACITY} and no holding owner: left with its owner"
        return
    text = f"waiting: {NO_CAPACITY} after breach ({breach})"
    plan.add(Reassign(lead.ref, holding, lead.owner_id, breach, plan.state.reassignment_count + 1, text, None))
    reason = f"{breach}; {NO_CAPACITY}"
    plan.move(MoveKind.WAIT, holding, reason, record=_record(plan, picked, MoveKind.WAIT, holding, reason))
    plan.outcome = f"moved to {holding_name}: {NO_CAPACITY} after breach ({breach})"


def _record(plan: Plan, picked: Route, kind: MoveKind, owner_id: str, reason: str) -> AssignmentRecord:
    rule = picked.rule
    return AssignmentRecord(
        kind.value,
        owner_id,
        plan.lead.owner_id,
        reason,
        rule.name,
        rule.method,
        picked.team,
        picked.candidates,
        picked.pointer,
    )
