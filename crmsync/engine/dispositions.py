"""Dispositions and minimum effort (DESIGN §3.6). Pure.

When a rep closes a lead (its status enters ``closed_statuses``, seen as a change from an open status), the
close must carry a reason from the policy's list and follow enough effort: counted touches ≥
``min_touches_before_close`` and, when touches are required, channels used ≥ ``min_channels_before_close``.
Otherwise ``on_early_close`` decides: ``reopen`` (restore the status and owner the lead had before the close,
message "Reopened: 2 of 5 required touches") or ``flag`` (keep it, mark it, and give the team's manager a
task). crmsync's own closes (recycles) always carry a reason and are not checked. A lead first seen already
closed has no open status to restore and is not checked either.
"""

from __future__ import annotations

from crmsync.domain import CreateTask, Flag, OwnerKind, Reopen
from crmsync.engine.decision import Plan
from crmsync.engine.state import MoveKind, Phase


def close_problems(plan: Plan) -> list[str]:
    """What is wrong with the rep's close: missing or unlisted reason, too few touches or channels."""
    ep, state = plan.ep, plan.state
    rules = ep.dispositions
    problems: list[str] = []
    if not state.disposition:
        problems.append("no disposition reason given")
    elif state.disposition not in ep.reasons:
        problems.append(f"reason {state.disposition!r} is not one of the policy's reasons")
    needed = rules.min_touches_before_close
    if state.touches < needed:
        problems.append(f"{state.touches} of {needed} required touches")
    if needed and state.channels_used < rules.min_channels_before_close:
        problems.append(f"{state.channels_used} of {rules.min_channels_before_close} required channels")
    return problems


def on_close(plan: Plan) -> None:
    """Decide about a closed lead: accept the close, or reopen/flag an early one closed by a rep."""
    state, lead = plan.state, plan.lead
    checked = (
        closed_by_rep(plan)
        and bool(plan.changes.get("mql"))
        and not state.closed_by_crmsync
        and state.open_status is not None
        and state.flagged_close < state.close_count
    )
    problems = close_problems(plan) if checked else []
    if not problems:
        plan.outcome = "closed" + (f" ({state.disposition})" if state.disposition else "")
        plan.set(Phase.CLOSED)
        return
    text = "; ".join(problems)
    plan.rules.append(f"early close: {text}")
    extra = f"c{state.close_count}"
    restore_owner = state.open_owner_id or lead.owner_id
    mode = plan.ep.dispositions.on_early_close
    if mode == "reopen" and state.open_status is not None and restore_owner is not None:
        message = f"Reopened: {text}"
        plan.add(Reopen(lead.ref, state.open_status, restore_owner, lead.owner_id, message), extra)
        plan.move(MoveKind.REOPEN, restore_owner, message, state.open_status)
        plan.outcome = message
        plan.set(Phase.WORKING)
        return
    _flag(plan, f"Flagged: {text}", extra)


def closed_by_rep(plan: Plan) -> bool:
    """Whether a rep (a CRM user, not a holding owner) owned the lead when it was closed."""
    closer = plan.state.open_owner_id or plan.lead.owner_id
    if closer is None or plan.roster.is_holding(closer):
        return False
    owner = plan.roster.owners.get(closer)
    return owner is not None and owner.kind is OwnerKind.USER


def _flag(plan: Plan, message: str, extra: str) -> None:
    lead, state = plan.lead, plan.state
    plan.add(Flag(lead.ref, message), extra)
    manager = _manager(plan)
    if manager is not None:
        plan.add(CreateTask(lead.ref, manager, "Early close to review", message, None), f"flag:{extra}")
    else:
        plan.problems.append("no manager to review the early close (team has no manager in the CRM)")
    plan.changes["flagged_close"] = state.close_count
    plan.outcome = message
    plan.set(Phase.CLOSED)


def _manager(plan: Plan) -> str | None:
    """The active manager of the closing rep's first team with one (else of the lead's routing team)."""
    policy, roster = plan.ep.policy, plan.roster
    closer = roster.owners.get(plan.state.open_owner_id or plan.lead.owner_id or "")
    names = list(policy.teams_of(closer.email)) if closer is not None and closer.email else []
    rule = plan.rule
    if rule is not None:
        names.append(rule.team)
    for name in names:
        manager = policy.teams[name].manager if name in policy.teams else None
        owner = roster.by_email(manager) if manager else None
        if owner is not None and owner.active:
            return owner.owner_id
    return None
