"""The policy as the engine reads it: everything that does not depend on a lead, computed once. Pure.

:func:`prepare` turns a :class:`~crmsync.policy.Policy` into an :class:`EnginePolicy` (memoised per policy
object, so calling :func:`~crmsync.engine.decide.decide` with the same policy again costs nothing). Conditions
are compiled once through :meth:`Policy.predicate`; each member's calendar (``Policy.calendar_for``) and
out-of-office periods are resolved once; closed statuses, reasons, each tier's touch rules, the explainer of
the qualification rule and the policy hash recorded on each decision are kept as plain attributes, so the
per-lead path never goes through the model's validation machinery.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from crmsync.domain import Activity, Channel
from crmsync.engine.why import Explainer, explainer
from crmsync.policy import BusinessCalendar, Policy, Predicate
from crmsync.policy.scoring import Score, Scorer, Signal
from crmsync.policy.sections import Dispositions, OnBreach, RoutingRule, SlaTier, Team

_CHANNELS = {"email": Channel.EMAIL, "call": Channel.CALL, "meeting": Channel.MEETING}
_SIGNAL = {Channel.EMAIL: "email", Channel.CALL: "call", Channel.MEETING: "meeting", Channel.OTHER: "email"}
Fields = Mapping[str, object]


@dataclass(frozen=True, slots=True)
class TouchRules:
    """Which touches count for a lead's SLA tier: the channels, and whether automated emails count."""

    channels: frozenset[Channel] = frozenset({Channel.EMAIL, Channel.CALL, Channel.MEETING})
    count_automated: bool = False


@dataclass(frozen=True, slots=True)
class MemberView:
    """A team member as routing sees them: address, calendar, out-of-office instants, skills, weight."""

    email: str
    calendar: BusinessCalendar
    out_of_office: tuple[tuple[datetime, datetime], ...]
    skills: frozenset[str]
    weight: float

    def away(self, now: datetime) -> bool:
        """Whether ``now`` falls in one of the member's out-of-office periods."""
        return any(start <= now < end for start, end in self.out_of_office)


@dataclass(frozen=True, slots=True)
class TeamView:
    """A team with its members in policy order."""

    name: str
    team: Team
    members: tuple[MemberView, ...]
    daily: int
    max_open: int | None
    emails: tuple[str, ...]


class EnginePolicy:
    """A policy prepared for the engine. Build it with :func:`prepare`; treat it as immutable."""

    __slots__ = (
        "_calendars",
        "_memo",
        "_memo_now",
        "_mql",
        "_routing",
        "_sla",
        "closed",
        "disposition_field",
        "dispositions",
        "hash",
        "holding_owner",
        "mql_why",
        "on_breach",
        "policy",
        "reasons",
        "recycle_statuses",
        "score_field",
        "scorer",
        "teams",
        "touch_rules",
    )

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.hash = hashlib.sha256(policy.model_dump_json(by_alias=True).encode()).hexdigest()[:16]
        self.dispositions: Dispositions = policy.dispositions
        self.on_breach: OnBreach = policy.on_breach
        self.holding_owner: str = policy.qualification.holding_owner
        self.closed = frozenset(policy.dispositions.closed_statuses)
        self.reasons = frozenset(policy.dispositions.reasons)
        self.recycle_statuses = frozenset((policy.on_breach.recycle.status, policy.on_breach.unresponsive.status))
        field = policy.field_name("disposition")
        self.disposition_field: str | None = None if field == "disposition" else field
        self._mql: Predicate = policy.mql_rule
        self._routing = tuple((rule, policy.predicate(rule.when)) for rule in policy.routing)
        self._sla = tuple((tier, policy.predicate(tier.when)) for tier in policy.sla)
        self._calendars: dict[str, BusinessCalendar] = {}
        self._memo: dict[tuple[object, ...], object] = {}
        self._memo_now: datetime | None = None
        self.teams = {name: self._team(name, team) for name, team in policy.teams.items()}
        self.touch_rules = {tier.name: _rules(tier) for tier in policy.sla}
        self.mql_why: Explainer = explainer(policy.qualification.mql_when, policy.fields.as_mapping())
        scoring = policy.scoring
        self.scorer = Scorer(scoring, policy.fields.as_mapping()) if scoring is not None else None
        self.score_field = policy.field_name(scoring.write_to) if scoring is not None else None

    def fields_for(self, lead_fields: Fields, score: float | None) -> Fields:
        """The fields conditions read: the lead's, with crmsync's computed score (if the policy scores)."""
        if self.score_field is None or score is None:
            return lead_fields
        return {**lead_fields, self.score_field: score}

    def score(self, fields: Fields, activities: Iterable[Activity], now: datetime) -> Score | None:
        """The policy's score of a lead from its fields and activities at ``now`` (None without scoring).

        Engagement signals: inbound mail is a ``reply``; outbound calls, meetings and emails are ``call``,
        ``meeting`` and ``email`` (``form`` and ``page_view`` are not pulled yet).
        """
        if self.scorer is None:
            return None
        signals = [Signal(_SIGNAL[a.channel] if a.is_touch else "reply", a.occurred_at) for a in activities
                   if a.is_reply or a.is_touch]  # fmt: skip
        return self.scorer(fields, signals, now)

    def _team(self, name: str, team: Team) -> TeamView:
        members = []
        for m in team.members:
            calendar = self.calendar(m.email)
            periods = tuple(p.resolve(calendar.tz) for p in m.out_of_office)
            members.append(MemberView(m.email, calendar, periods, team.member_skills(m), m.weight))
        capacity = team.capacity
        emails = tuple(m.email for m in members)
        return TeamView(name, team, tuple(members), capacity.daily_leads, capacity.max_open_leads, emails)

    def is_mql(self, fields: Fields) -> bool:
        """Whether the qualification rule accepts these fields."""
        return self._mql(fields)

    def rule_for(self, fields: Fields) -> RoutingRule | None:
        """The first routing rule whose condition matches, or None."""
        return next((rule for rule, matches in self._routing if matches(fields)), None)

    def tier_for(self, fields: Fields) -> SlaTier | None:
        """The first SLA tier whose condition matches, or None."""
        return next((tier for tier, matches in self._sla if matches(fields)), None)

    def rules_for(self, tier: SlaTier | None) -> TouchRules:
        """Which touches count under ``tier`` (all outbound touches but automated emails without a tier)."""
        return TouchRules() if tier is None else self.touch_rules[tier.name]

    def calendar(self, email: str | None) -> BusinessCalendar:
        """The business calendar of the rep with this address (the organisation's for None or unknown)."""
        key = (email or "").strip().lower()
        found = self._calendars.get(key)
        if found is None:
            found = self._calendars[key] = self.policy.calendar_for(email)
        return found

    def timed_reasons(self, team: TeamView, hours_only: bool, now: datetime) -> tuple[str | None, ...]:
        """Per member of ``team``: "out of office", "outside working hours" (when asked) or None, at ``now``.

        Memoised for the latest ``now`` (a batch decides every lead at one instant).
        """
        key = ("timed", team.name, hours_only)
        found = self.memo(now).get(key)
        if found is None:
            found = self._memo[key] = tuple(_timed(m, hours_only, now) for m in team.members)
        return found  # type: ignore[return-value]

    def memo(self, now: datetime) -> dict[tuple[object, ...], object]:
        """A scratch memo for values that depend only on the policy and ``now`` (cleared when ``now`` changes)."""
        if now != self._memo_now or len(self._memo) > _MEMO_LIMIT:
            self._memo.clear()
            self._memo_now = now
        return self._memo

    @property
    def holding_names(self) -> frozenset[str]:
        """Every holding-owner name the policy uses (qualification and teams): what the shell must resolve."""
        own = {view.team.holding_owner for view in self.teams.values() if view.team.holding_owner}
        return frozenset({self.holding_owner, *own})

    def holding_for(self, team: str | None) -> str:
        """The holding-owner name where a team's leads wait (the qualification one by default)."""
        view = self.teams.get(team) if team is not None else None
        own = view.team.holding_owner if view is not None else None
        return own or self.holding_owner


def _timed(member: MemberView, hours_only: bool, now: datetime) -> str | None:
    if member.out_of_office and member.away(now):
        return "out of office"
    if hours_only and not member.calendar.is_working(now):
        return "outside working hours"
    return None


def _rules(tier: SlaTier) -> TouchRules:
    return TouchRules(frozenset(_CHANNELS[c] for c in tier.channels), tier.count_automated)


_MEMO_LIMIT = 4096
_PREPARED: dict[int, tuple[Policy, EnginePolicy]] = {}
_PREPARED_LIMIT = 16


def prepare(policy: Policy | EnginePolicy) -> EnginePolicy:
    """The :class:`EnginePolicy` for ``policy`` (memoised by identity; an EnginePolicy is returned as is)."""
    if isinstance(policy, EnginePolicy):
        return policy
    found = _PREPARED.get(id(policy))
    if found is not None and found[0] is policy:
        return found[1]
    if len(_PREPARED) >= _PREPARED_LIMIT:
        _PREPARED.pop(next(iter(_PREPARED)))
    prepared = EnginePolicy(policy)
    _PREPARED[id(policy)] = (policy, prepared)
    return prepared
