"""Small policies, rosters, leads and activities built in code, shared by the engine tests."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from crmsync.domain import (
    Action,
    Activity,
    ActivitySource,
    Assign,
    Channel,
    CreateTask,
    Direction,
    Flag,
    Hide,
    Lead,
    LeadRef,
    LogActivity,
    Owner,
    OwnerKind,
    Reassign,
    Recycle,
    Reopen,
    SetDisposition,
)
from crmsync.engine import Decision, LeadState, Roster, decide, derive
from crmsync.policy import Policy

CONN = "sf"
# Mon 2026-03-02 09:00 EST (before the US switch to daylight time on 2026-03-08).
MON_9 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

BASE: dict[str, Any] = {
    "version": 1,
    "calendar": {"timezone": "America/New_York", "hours": "09:00-17:00", "holidays": "US"},
    "fields": {"score": "Lead_Score__c", "disposition": "Disposition_Reason__c"},
    "qualification": {
        "mql_when": {"any": [{"field": "score", "gte": 60}, {"field": "LeadSource", "in": ["Demo Request"]}]},
        "holding_owner": "queue:Marketing Nurture",
    },
    "teams": {
        "sdr": {
            "members": ["ana@acme.test", "ben@acme.test", "cam@acme.test"],
            "capacity": {"focus_minutes_per_day": 360, "minutes_per_lead": 18},
            "manager": "mia@acme.test",
        },
        "events": {"members": ["dev@acme.test"], "capacity": {"leads_per_day": 40}},
    },
    "routing": [
        {"name": "trade shows", "when": {"field": "LeadSource", "eq": "Trade Show"}, "team": "events"},
        {"name": "everyone else", "team": "sdr", "method": "round_robin"},
    ],
    "sla": [
        {
            "name": "demo requests",
            "when": {"field": "LeadSource", "eq": "Demo Request"},
            "first_touch": "1h",
            "follow_up": {"touches": 6, "within": "10d", "mix": {"calls": 2, "emails": 3}, "max_gap": "2d"},
        },
        {"name": "default", "first_touch": "1d", "follow_up": {"touches": 8, "within": "15d", "max_gap": "3d"}},
    ],
    "on_breach": {
        "max_reassignments": 2,
        "recycle": {"status": "Recycled", "reason": "Recycled: no first touch after {reassignments} reassignments"},
    },
    "dispositions": {
        "closed_statuses": ["Unqualified", "Nurture", "Recycled"],
        "reasons": ["No budget", "Not decision maker", "Bad contact data", "Competitor", "Unresponsive", "Not a fit"],
        "min_touches_before_close": 5,
        "on_early_close": "reopen",
    },
}

ANA, BEN, CAM, DEV, MIA, QUEUE = "005ANA", "005BEN", "005CAM", "005DEV", "005MIA", "00GQUEUE"
EMAILS = {ANA: "ana@acme.test", BEN: "ben@acme.test", CAM: "cam@acme.test", DEV: "dev@acme.test", MIA: "mia@acme.test"}


def merge(base: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` merged in recursively (a None value deletes the key; conditions are replaced)."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        elif (
            isinstance(value, Mapping)
            and isinstance(out.get(key), dict)
            and key not in ("mql_when", "when", "capacity")
        ):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def policy(**changes: Any) -> Policy:
    """The base policy with ``changes`` merged in."""
    return Policy.model_validate(merge(BASE, changes))


def owners(inactive: Iterable[str] = ()) -> list[Owner]:
    """The reps, the manager and the holding queue."""
    out = [
        Owner(CONN, oid, OwnerKind.USER, email.split("@")[0], email, oid not in set(inactive))
        for oid, email in EMAILS.items()
    ]
    out.append(Owner(CONN, QUEUE, OwnerKind.QUEUE, "Marketing Nurture"))
    out.append(Owner(CONN, "00GOTHER", OwnerKind.QUEUE, "Partners"))
    return out


def roster(
    open_leads: Mapping[str, int] | None = None,
    today: Mapping[str, int] | None = None,
    pointers: Mapping[str, int] | None = None,
    inactive: Iterable[str] = (),
    holding: Mapping[str, str] | None = None,
) -> Roster:
    """A roster of :func:`owners` with the holding queue resolved."""
    return Roster.of(
        owners(inactive),
        open_leads=open_leads,
        assigned_today=today,
        pointers=pointers,
        holding={"queue:Marketing Nurture": QUEUE} if holding is None else holding,
    )


def lead(
    lead_id: str = "00Q1",
    owner: str | None = ANA,
    score: object = 80,
    source: str | None = "Web",
    status: str | None = "Open",
    reason: str | None = None,
    converted: bool = False,
    deleted: bool = False,
    **fields: object,
) -> Lead:
    """A lead snapshot with the fields the base policy reads."""
    values: dict[str, object] = {"Lead_Score__c": score, "LeadSource": source, **fields}
    if reason is not None:
        values["Disposition_Reason__c"] = reason
    return Lead(LeadRef(CONN, lead_id), owner, None, status, MON_9 - 30 * DAY, MON_9 - DAY, values, converted, deleted)


def touch(
    owner: str, at: datetime, channel: Channel = Channel.EMAIL, automated: bool = False, key: str = ""
) -> Activity:
    """An outbound touch by ``owner`` on lead 00Q1."""
    return Activity(
        CONN, key or f"t-{owner}-{at.isoformat()}-{channel}", "00Q1", owner, channel, Direction.OUTBOUND, at,
        ActivitySource.CRM, automated,
    )  # fmt: skip


def reply(at: datetime) -> Activity:
    """An inbound email from the lead."""
    return Activity(
        CONN, f"r-{at.isoformat()}", "00Q1", None, Channel.EMAIL, Direction.INBOUND, at, ActivitySource.CAPTURE
    )


def seen(
    the_lead: Lead,
    at: datetime,
    activities: Sequence[Activity] = (),
    pol: Policy | None = None,
    previous: LeadState | None = None,
) -> LeadState:
    """The state after crmsync sees ``the_lead`` at ``at``."""
    return derive(previous, the_lead, activities, pol or policy(), at)


def run(
    the_lead: Lead,
    now: datetime,
    activities: Sequence[Activity] = (),
    pol: Policy | None = None,
    first_seen: datetime | None = None,
    the_roster: Roster | None = None,
    previous: LeadState | None = None,
) -> Decision:
    """Derive at ``first_seen`` (default ``now``), derive again at ``now`` and decide."""
    p = pol or policy()
    state = previous
    if first_seen is not None:
        state = derive(state, the_lead, activities, p, first_seen)
    state = derive(state, the_lead, activities, p, now)
    return decide(state, the_lead, the_roster or roster(), p, now)


def kinds(decision: Decision) -> list[str]:
    """The kinds of the decision's actions, in order."""
    return [p.kind for p in decision.actions]


def apply(the_lead: Lead, actions: Iterable[Action], disposition_field: str = "Disposition_Reason__c") -> Lead:
    """The lead as the CRM would show it after the actions landed (the outbox's effect, simulated)."""
    owner, status, fields = the_lead.owner_id, the_lead.status, dict(the_lead.fields)
    for action in actions:
        match action:
            case Assign(owner_id=o) | Reassign(owner_id=o):
                owner = o
            case Hide(holding_owner_id=o):
                owner = o
            case Recycle(holding_owner_id=o, status=s) | Reopen(owner_id=o, status=s):
                owner, status = o, s
            case SetDisposition(reason=r):
                fields[disposition_field] = r
            case Flag() | CreateTask() | LogActivity():
                pass
    return Lead(
        the_lead.ref, owner, the_lead.email, status, the_lead.created_at, the_lead.modified_at, fields,
        the_lead.converted, the_lead.deleted,
    )  # fmt: skip
