"""Load the engine's :class:`~crmsync.engine.Roster` from the store: owners, loads, pointers, holding owners.

Its cost follows the reps, never the org: open leads are counted only for the reps the policy's teams name,
through the (connection, owner_id) index, and today's intake through the assignments (connection, at) index.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from crmsync.domain import Owner, OwnerKind
from crmsync.engine import Roster, prepare
from crmsync.policy import Policy
from crmsync.store.repositories import coordination, history, leads, roster
from crmsync.store.tables import AssignmentKind

INTAKE_KINDS = (AssignmentKind.ROUTE, AssignmentKind.REASSIGN)


def load_roster(session: Session, connection: str, policy: Policy, now: datetime) -> tuple[Roster, list[str]]:
    """The roster for deciding at ``now``, and the holding-owner names that could not be resolved."""
    owners = roster.list_reps(session, connection)
    member_ids = _member_ids(owners, policy)
    open_leads = leads.open_leads_of(session, connection, member_ids)
    today = history.assignments_since(session, connection, start_of_day(policy, now), INTAKE_KINDS)
    pointers = coordination.routing_pointers(session, connection)
    holding, unresolved = resolve_holding(owners, sorted(prepare(policy).holding_names))
    built = Roster.of(owners, open_leads=open_leads, assigned_today=today, pointers=pointers, holding=holding)
    return built, unresolved


def resolve_holding(owners: Iterable[Owner], names: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """Map policy holding-owner names to owner ids: ``queue:<name>``, ``user:<email>``, or an id as written."""
    queues = {o.name.strip().lower(): o.owner_id for o in owners if o.kind is OwnerKind.QUEUE}
    by_email = {o.email.strip().lower(): o.owner_id for o in owners if o.email and o.kind is OwnerKind.USER}
    ids = {o.owner_id for o in owners}
    resolved: dict[str, str] = {}
    unresolved: list[str] = []
    for name in names:
        found = _resolve(name, queues, by_email, ids)
        if found is None:
            unresolved.append(name)
        else:
            resolved[name] = found
    return resolved, unresolved


def _resolve(name: str, queues: Mapping[str, str], by_email: Mapping[str, str], ids: set[str]) -> str | None:
    kind, _, value = name.partition(":")
    if kind == "queue" and value:
        return queues.get(value.strip().lower())
    if kind == "user" and value:
        return by_email.get(value.strip().lower())
    return name if name in ids else None


def _member_ids(owners: Iterable[Owner], policy: Policy) -> list[str]:
    emails = {m.email.strip().lower() for team in policy.teams.values() for m in team.members}
    return [o.owner_id for o in owners if o.email and o.email.strip().lower() in emails]


def start_of_day(policy: Policy, now: datetime) -> datetime:
    """Midnight of ``now``'s day in the policy calendar's timezone (daily caps reset then)."""
    zone = ZoneInfo(policy.calendar.timezone)
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time(0), tzinfo=zone)
