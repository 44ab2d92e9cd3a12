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
TIMED_REASONS = frozenset({"outside working hours", "out of office"})


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
    """Candidates, problems, indexes of eligible members, and (when none is) the retry instant.

    Memoised for ``now`` on everything the answer depends on (members' ids, activity, loads, exclusions), so
    a batch of leads waiting for a full team costs a key, not twenty candidate evaluations each.
    """
    owners = [roster.by_email(m.email) for m in view.members]
    loads = tuple(
        (o.owner_id, o.active, roster.load(o.owner_id), roster.today(o.owner_id)) if o is not None else None
        for o in owners
    )
    excluded = tuple(o is not None and (o.owner_id in exclude or o.owner_id == current) for o in owners)
    key = ("route", view.name, rule.name, rule.skills, rule.working_hours_only, current, excluded, loads)
    memo = ep.memo(now)
    found = memo.get(key)
    if found is None:
        candidates, problems = _candidates(ep, view, rule, roster, now, exclude, current)
        eligible = tuple(i for i, c in enumerate(candidates) if c.eligible)
        retry = None if eligible else _retry_at(view, candidates, now)
        found = memo[key] = (candidates, problems, eligible, retry)
    return found  # type: ignore[return-value]


def _candidates(
    ep: EnginePolicy,
    view: TeamView,
    rule: RoutingRule,
    roster: Roster,
    now: datetime,
    exclude: Collection[str],
    current: str | None,
) -> tuple[tuple[Candidate, ...], tuple[str, ...]]:
    out: list[Candidate] = []
    problems: list[str] = []
    daily, max_open = view.daily, view.max_open
    needed = frozenset(rule.skills)
    timed = ep.timed_reasons(view, rule.working_hours_only, now)
    for member, away in zip(view.members, timed, strict=True):
        owner = roster.by_email(member.email)
        if owner is None:
            problems.append(f"team {view.name!r} names {member.email}, who is not a CRM user")
            out.append(Candidate(None, member.email, ("not a CRM user",)))
            continue
        oid = owner.owner_id
        load, today = roster.load(oid), roster.today(oid)
        reasons = [] if owner.active else ["inactive in the CRM"]
        if away is not None:
            reasons.append(away)
        reasons.extend(_capacity(today, load, daily, max_open))
        if needed and not needed <= member.skills:
            reasons.append("missing skills: " + ", ".join(sorted(needed - member.skills)))
        if oid == current:
            reasons.append("current owner")
        elif oid in exclude:
            reasons.append("previous owner")
        out.append(Candidate(oid, member.email, tuple(reasons), load, today))
    return tuple(out), tuple(problems)


def _capacity(today: int, load: int, daily: int, max_open: int | None) -> list[str]:
    reasons = [f"daily cap reached ({today}/{daily})"] if today >= daily else []
    if max_open is not None and load >= max_open:
        reasons.append(f"open-lead cap reached ({load}/{max_open})")
    return reasons


def _weighted(members: tuple[MemberView, ...], eligible: Sequence[int], pointer: int) -> int:
    total = sum(members[i].weight for i in eligible)
    point = ((pointer * _GOLDEN) % 1.0) * total
    running = 0.0
    for i in eligible:
        running += members[i].weight
        if point < running:
            return i
    return eligible[-1]


def _retry_at(view: TeamView, candidates: tuple[Candidate, ...], now: datetime) -> datetime | None:
    """The earliest instant a rep skipped only for time-bound reasons (hours, OOO, today's cap) may be eligible."""
    best: datetime | None = None
    for member, candidate in zip(view.members, candidates, strict=True):
        reasons = candidate.skipped
        timed = [r for r in reasons if r in TIMED_REASONS or r.startswith("daily cap")]
        if not reasons or len(timed) != len(reasons):
            continue
        calendar = member.calendar
        at = now
        if any(r.startswith("daily cap") for r in timed):
            local = now.astimezone(calendar.tz)
            at = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=calendar.tz)
        at = calendar.next_working_instant(at)
        best = at if best is None or at < best else best
    return best
