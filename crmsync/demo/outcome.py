"""The demo's figures, read the same way from a simulated Salesforce org whether crmsync ran on it or not.

Everything is measured on the MQLs created during the simulated period (the org's own fields: score ≥ the
qualification threshold is what the sandbox marks as MQL, read through the policy's ``mql_when``):

- ``touched_within_sla_pct``: share whose first touch (a logged call or email Task, or an Event) came within
  their SLA tier's ``first_touch`` limit, in the business time of the policy's calendar, from creation;
- ``never_touched``: MQLs with no touch at all by the end of the period;
- ``median_first_touch_business_minutes``: over the MQLs that were touched;
- ``reassignments``, ``recycled`` (with reasons): crmsync's own actions, from its store (0 without it);
- ``pipeline``: leads converted during the period (a held meeting that became an opportunity);
- ``cherry_pick``: per rep, the share of attractive MQLs they touched while owning them, divided by the share
  of the other MQLs they touched (1.0 = even-handed; ``inf`` when they touched attractive ones only; None
  when either segment is empty or they touched nothing).

Tasks crmsync creates for reps ("Reassigned to you") are not touches: only Email and Call subtypes count.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from crmsync.policy import Policy
from crmsync.policy.conditions import compile_condition
from crmsync.sandbox.org import Org

TOUCH_SUBTYPES = ("Email", "Call")


@dataclass(frozen=True, slots=True)
class Touch:
    """One touch on a lead: who, when."""

    lead_id: str
    owner_id: str
    at: datetime


@dataclass
class Outcome:
    """The before/after figures of one run (see the module docstring)."""

    mqls: int = 0
    touched_within_sla_pct: float = 0.0
    never_touched: int = 0
    median_first_touch_business_minutes: float | None = None
    reassignments: int = 0
    recycled: int = 0
    recycle_reasons: dict[str, int] = field(default_factory=dict)
    pipeline: int = 0
    cherry_pick: dict[str, float | None] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict of every figure."""
        return asdict(self)


def touches(org: Org) -> list[Touch]:
    """Every touch logged on a lead in ``org`` (calls and emails as Tasks, meetings as Events)."""
    found = [
        Touch(str(t["WhoId"]), str(t["OwnerId"]), t["CreatedDate"])
        for t in org.rows("Task")
        if t.get("TaskSubtype") in TOUCH_SUBTYPES and str(t.get("WhoId") or "").startswith("00Q")
    ]
    found += [
        Touch(str(e["WhoId"]), str(e["OwnerId"]), e["StartDateTime"])
        for e in org.rows("Event")
        if str(e.get("WhoId") or "").startswith("00Q")
    ]
    return found


def measure(
    org: Org,
    policy: Policy,
    since: datetime,
    first_owner: Mapping[str, str],
    rep_names: Mapping[str, str],
    attractive: Mapping[str, bool],
) -> Outcome:
    """The figures of ``org`` for MQLs created at or after ``since``; ``first_owner`` is each lead's owner at
    creation, ``rep_names`` owner id → rep key, ``attractive`` lead id → in the attractive segment."""
    mql = compile_condition(policy.qualification.mql_when, policy.fields.as_mapping())
    leads = [r for r in org.rows("Lead") if r["CreatedDate"] >= since and mql(r)]
    by_lead: dict[str, list[Touch]] = defaultdict(list)
    for touch in touches(org):
        by_lead[touch.lead_id].append(touch)
    calendar = policy.business_calendar
    within = 0
    delays: list[float] = []
    for lead in leads:
        first = min((t.at for t in by_lead.get(str(lead["Id"]), [])), default=None)
        if first is None:
            continue
        delay = calendar.between(lead["CreatedDate"], first) if first > lead["CreatedDate"] else timedelta(0)
        delays.append(delay.total_seconds() / 60)
        within += delay <= _first_touch_limit(policy, lead)
    return Outcome(
        mqls=len(leads),
        touched_within_sla_pct=round(100 * within / len(leads), 1) if leads else 0.0,
        never_touched=len(leads) - len(delays),
        median_first_touch_business_minutes=round(statistics.median(delays), 1) if delays else None,
        pipeline=sum(1 for lead in leads if lead.get("IsConverted")),
        cherry_pick=_cherry_pick(leads, by_lead, first_owner, rep_names, attractive),
    )


def _first_touch_limit(policy: Policy, lead: Mapping[str, Any]) -> timedelta:
    calendar = policy.business_calendar
    for tier in policy.sla:
        if compile_condition(tier.when, policy.fields.as_mapping())(lead):
            return calendar.to_timedelta(tier.first_touch)
    return timedelta.max


def _cherry_pick(
    leads: Iterable[Mapping[str, Any]],
    by_lead: Mapping[str, list[Touch]],
    first_owner: Mapping[str, str],
    rep_names: Mapping[str, str],
    attractive: Mapping[str, bool],
) -> dict[str, float | None]:
    """Per rep: touch rate on the attractive leads they were given at creation over the rate on the rest."""
    given: Counter[tuple[str, bool]] = Counter()
    worked: Counter[tuple[str, bool]] = Counter()
    for lead in leads:
        lead_id = str(lead["Id"])
        rep = rep_names.get(first_owner.get(lead_id, ""))
        if rep is None:
            continue
        key = (rep, attractive.get(lead_id, False))
        given[key] += 1
        owner = first_owner[lead_id]
        worked[key] += any(t.owner_id == owner for t in by_lead.get(lead_id, []))
    index: dict[str, float | None] = {}
    for rep in sorted(set(rep_names.values()), key=lambda r: (len(r), r)):
        hot, rest = given[(rep, True)], given[(rep, False)]
        if not hot or not rest or not (worked[(rep, True)] or worked[(rep, False)]):
            index[rep] = None
        elif not worked[(rep, False)]:
            index[rep] = math.inf  # worked attractive leads only: the purest cherry-picking
        else:
            index[rep] = round((worked[(rep, True)] / hot) / (worked[(rep, False)] / rest), 2)
    return index
