"""Routing (DESIGN §3.3): the first matching rule names a team; the rule's method picks an eligible rep. Pure.

Eligibility, checked for every member in policy order so each skip has its reasons: a CRM user, active, not
out of office, inside working hours (where the rule asks), under the team's daily cap and open-lead cap,
holding the rule's skills, and neither a previous owner nor the current one. Methods:

- ``round_robin``: the first eligible member at or after the team pointer (in member order); the pointer moves
  just past the pick.
- ``least_loaded``: fewest open leads, then fewest received today, then member order. Pointer unchanged.
- ``weighted``: deterministic and weight-proportional: the pointer ``p`` gives the point ``frac(p·φ)`` (a
  low-discrepancy sequence) on the eligible members' cumulative weights; the pointer advances by one.

No eligible rep: the lead waits with the team's holding owner, reason :data:`NO_CAPACITY`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from crmsync.engine.compiled import EnginePolicy, MemberView, TeamView
from crmsync.engine.explain import Candidate
from crmsync.engine.roster import Roster
from crmsync.policy.sections import RoutingRule

NO_CAPACITY = "no capacity"
_GOLDEN = 0.6180339887498949


@dataclass(frozen=True, slots=True)
class Route:
    """The outcome of routing one lead.

    ``owner_id``/``email`` the rep picked (None: nobody eligible, the lead waits); ``pointer`` the team's new
    pointer; ``candidates`` every member with skip reasons; ``problems`` policy members unknown to the CRM;
    ``retry_at`` the earliest instant a skipped rep may become eligible by time alone (hours, OOO, a new day).
    """

    rule: RoutingRule
    team: str
    owner_id: str | None
    email: str | None
    pointer: int
    candidates: tuple[Candidate, ...]
    problems: tuple[str, ...] = ()
    retry_at: datetime | None = None

    @property
    def reason(self) -> str:
        """``routed by <rule> (<method>)`` or :data:`NO_CAPACITY`."""
        if self.owner_id is None:
            return NO_CAPACITY
        return f"routed by {self.rule.name!r} ({self.rule.method})"


def route(
    ep: EnginePolicy,
    rule: RoutingRule,
    roster: Roster,
    now: datetime,
    exclude: Collection[str] = (),
    current: str | None = None,
) -> Route:
    """Pick a rep of ``rule.team`` for one lead; ``exclude`` are previous owners, ``current`` the owner now."""
    view = ep.teams[rule.team]
    candidates, problems, eligible, retry = _evaluate(ep, view, rule, roster, now, exclude, current)
    pointer = roster.pointer(view.name)
    if not eligible:
        return Route(rule, view.name, None, None, pointer, candidates, problems, retry)
    if rule.method == "least_loaded":
        pick = min(eligible, key=lambda i: (candidates[i].open_leads, candidates[i].assigned_today, i))
    elif rule.method == "weighted":
        pick = _weighted(view.members, eligible, pointer)
        pointer += 1
    else:
        size = len(candidates)
        pick = min(eligible, key=lambda i: (i - pointer) % size)
        pointer = pick + 1
    chosen = candidates[pick]
    return Route(rule, view.name, chosen.owner_id, chosen.email, pointer, candidates, problems)


Evaluated = tuple[tuple[Candidate, ...], tuple[str, ...], tuple[int, ...], datetime | None]


def _evaluate(
    ep: EnginePolicy,
    view: TeamView,
    rule: RoutingRule,
    roster: Roster,
    now: datetime,
    exclude: Collection[str],
    current: str | None,
) -> Evaluated:
    """Candidates (every member, with skip reasons), problems, indexes of eligible members, retry instant."""
    out: list[Candidate] = []
    problems: list[str] = []
    timed = ep.timed_reasons(view, rule.working_hours_only, now)
    owners = roster.members_of(view.emails)
    open_leads, assigned_today = roster.open_leads, roster.assigned_today
    retry: datetime | None = None
    for member, away, owner in zip(view.members, timed, owners, strict=True):
        if owner is None:
            problems.append(f"team {view.name!r} names {member.email}, who is not a CRM user")
            out.append(Candidate(None, member.email, ("not a CRM user",)))
            continue
        oid = owner.owner_id
        load, today = open_leads.get(oid, 0), assigned_today.get(oid, 0)
        reasons, only_time = _reasons(view, rule, member, owner.active, away, load, today)
        if oid == current:
            reasons.append("current owner")
        elif oid in exclude:
            reasons.append("previous owner")
        elif only_time:
            at = _retry_at(ep, member, today >= view.daily, now)
            retry = at if retry is None or at < retry else retry
        out.append(Candidate(oid, member.email, tuple(reasons), load, today))
    eligible = tuple(i for i, c in enumerate(out) if not c.skipped)
    return tuple(out), tuple(problems), eligible, None if eligible else retry


def _reasons(
    view: TeamView, rule: RoutingRule, member: MemberView, active: bool, away: str | None, load: int, today: int
) -> tuple[list[str], bool]:
    """Why a rep is not eligible (bar ownership), and whether only time (hours, OOO, a new day) is in the way."""
    reasons = [] if active else ["inactive in the CRM"]
    if away is not None:
        reasons.append(away)
    if today >= view.daily:
        reasons.append(f"daily cap reached ({today}/{view.daily})")
    only_time = bool(reasons) and active
    if view.max_open is not None and load >= view.max_open:
        reasons.append(f"open-lead cap reached ({load}/{view.max_open})")
        only_time = False
    needed = rule.skills
    if needed and not member.skills.issuperset(needed):
        reasons.append("missing skills: " + ", ".join(sorted(set(needed) - member.skills)))
        only_time = False
    return reasons, only_time


def _weighted(members: tuple[MemberView, ...], eligible: Sequence[int], pointer: int) -> int:
    total = sum(members[i].weight for i in eligible)
    point = ((pointer * _GOLDEN) % 1.0) * total
    running = 0.0
    for i in eligible:
        running += members[i].weight
        if point < running:
            return i
    return eligible[-1]


def _retry_at(ep: EnginePolicy, member: MemberView, capped: bool, now: datetime) -> datetime:
    """When a rep skipped only for time (hours, OOO, today's cap) may be eligible: memoised per instant."""
    memo = ep.memo(now)
    key = ("retry", member.email, capped)
    found = memo.get(key)
    if found is None:
        calendar, at = member.calendar, now
        if capped:  # caps count the rep's own day: the next chance is after their midnight
            local = now.astimezone(calendar.tz)
            at = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=calendar.tz)
        found = memo[key] = calendar.next_working_instant(at)
    assert isinstance(found, datetime)
    return found
