"""The whole policy (DESIGN §4) as one frozen, typed value, with what the engine asks of it. Pure.

Build it with :func:`crmsync.policy.loader.load_policy` (which locates every problem in the file) or
``Policy.model_validate(data)`` (which raises pydantic's ``ValidationError``). Conditions are compiled once,
when the policy is built; calendars per rep are built on first use and cached.
"""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, PrivateAttr, ValidationInfo, model_validator

from crmsync.policy.calendar import BusinessCalendar
from crmsync.policy.checks import cross_problems
from crmsync.policy.conditions import Condition, Fields, Predicate, compile_condition
from crmsync.policy.durations import Duration
from crmsync.policy.scoring import Scorer
from crmsync.policy.sections import (
    CalendarSpec,
    Capacity,
    CaptureOptions,
    Dispositions,
    FieldMap,
    FollowUp,
    Member,
    Mix,
    OnBreach,
    Period,
    Qualification,
    ReportOptions,
    RoutingRule,
    Scoring,
    SlaTier,
    StatusAndReason,
    StrictModel,
    Team,
)

DEFER_CROSS_CHECKS = "defer_cross_checks"
"""Validation-context key: the loader runs :func:`cross_problems` itself, to locate each problem."""


class Policy(StrictModel):
    """A validated policy file. Frozen; safe to share between threads once built."""

    version: Literal[1] = Field(description="Format version of the file; always 1 for now.")
    calendar: CalendarSpec = CalendarSpec()
    fields: FieldMap = FieldMap()
    qualification: Qualification
    scoring: Scoring | None = None
    teams: dict[str, Team] = Field(min_length=1)
    routing: tuple[RoutingRule, ...] = Field(min_length=1)
    sla: tuple[SlaTier, ...] = Field(min_length=1)
    on_breach: OnBreach = OnBreach()
    dispositions: Dispositions
    capture: CaptureOptions = CaptureOptions()
    reports: ReportOptions = ReportOptions()

    _mql: Predicate = PrivateAttr()
    _routing: tuple[tuple[RoutingRule, Predicate], ...] = PrivateAttr()
    _sla: tuple[tuple[SlaTier, Predicate], ...] = PrivateAttr()
    _attractive: Predicate | None = PrivateAttr()
    _calendar: BusinessCalendar = PrivateAttr()
    _scorer: Scorer | None = PrivateAttr()
    _calendars: dict[str, BusinessCalendar] = PrivateAttr(default_factory=dict)
    _members: dict[str, Member] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> Policy:
        if info.context and info.context.get(DEFER_CROSS_CHECKS):
            return self
        problems = cross_problems(self.model_dump(by_alias=True))
        if problems:
            raise ValueError("; ".join(f"{_dotted(path)}: {message}" for path, message in problems))
        return self

    def model_post_init(self, context: object, /) -> None:
        mapping = self.fields.as_mapping()
        self._mql = compile_condition(self.qualification.mql_when, mapping)
        self._routing = tuple((r, compile_condition(r.when, mapping)) for r in self.routing)
        self._sla = tuple((t, compile_condition(t.when, mapping)) for t in self.sla)
        attractive = self.reports.attractive
        self._attractive = compile_condition(attractive, mapping) if attractive is not None else None
        self._calendar = self.calendar.build()
        self._scorer = Scorer(self.scoring, mapping) if self.scoring is not None else None
        for team in self.teams.values():
            for member in team.members:
                self._members.setdefault(member.email, member)

    def __eq__(self, other: object) -> bool:
        """Policies are equal when their settings are (compiled conditions and caches are not compared)."""
        return type(other) is type(self) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # mutable mappings inside: not hashable

    # -- questions the engine asks -----------------------------------------------------------------------------

    def field_name(self, logical: str) -> str:
        """The CRM field for a logical name (``score`` → ``Lead_Score__c``); unmapped names come back as given."""
        mapped = getattr(self.fields, logical, None) if logical in FieldMap.model_fields else None
        return mapped if isinstance(mapped, str) and mapped else logical

    def predicate(self, condition: Condition | None) -> Predicate:
        """Compile any condition with this policy's field mapping (``None`` is always true)."""
        return compile_condition(condition, self.fields.as_mapping())

    def is_mql(self, fields: Fields) -> bool:
        """Whether the qualification rule accepts a lead with these CRM fields."""
        return self._mql(fields)

    @property
    def mql_rule(self) -> Predicate:
        """The compiled qualification rule (its ``description`` explains it)."""
        return self._mql

    def routing_rule_for(self, fields: Fields) -> RoutingRule | None:
        """The first routing rule whose condition matches, or None."""
        return next((rule for rule, matches in self._routing if matches(fields)), None)

    def sla_tier_for(self, fields: Fields) -> SlaTier | None:
        """The first SLA tier whose condition matches, or None (the lead has no SLA)."""
        return next((tier for tier, matches in self._sla if matches(fields)), None)

    def is_attractive(self, fields: Fields) -> bool | None:
        """Whether a lead is in the reports' "attractive" segment; None when the policy defines none."""
        return None if self._attractive is None else self._attractive(fields)

    @property
    def scorer(self) -> Scorer | None:
        """The compiled ``scoring`` section (call it with fields, signals and ``now``), or None without one."""
        return self._scorer

    def team(self, name: str) -> Team:
        """The team called ``name``; raises ``KeyError`` when there is none."""
        return self.teams[name]

    def member(self, email: str) -> Member | None:
        """The member with this address (case-insensitive; first team listing wins), or None."""
        return self._members.get(email.strip().lower())

    def teams_of(self, email: str) -> tuple[str, ...]:
        """Names of the teams listing this address."""
        wanted = email.strip().lower()
        return tuple(name for name, team in self.teams.items() if any(m.email == wanted for m in team.members))

    def holding_owner_for(self, team: str | None) -> str:
        """Where a team's leads wait when nobody can take them (default: the qualification holding owner)."""
        own = self.teams[team].holding_owner if team is not None and team in self.teams else None
        return own or self.qualification.holding_owner

    @property
    def business_calendar(self) -> BusinessCalendar:
        """The organisation's calendar (policy timezone, no out-of-office)."""
        return self._calendar

    def calendar_for(self, email: str | None) -> BusinessCalendar:
        """A rep's calendar: the policy's hours and holidays in the rep's timezone, minus their out-of-office.

        Unknown addresses and None get the organisation's calendar. Cached per address.
        """
        member = self.member(email) if email else None
        if member is None or (member.timezone is None and not member.out_of_office):
            return self._calendar
        found = self._calendars.get(member.email)
        if found is None:
            tz = ZoneInfo(member.timezone) if member.timezone else self._calendar.tz
            periods = [p.resolve(tz) for p in member.out_of_office]
            found = self._calendars[member.email] = self._calendar.with_person(member.timezone, periods)
        return found


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


__all__ = [
    "DEFER_CROSS_CHECKS",
    "CalendarSpec",
    "Capacity",
    "CaptureOptions",
    "Condition",
    "Dispositions",
    "Duration",
    "FieldMap",
    "FollowUp",
    "Member",
    "Mix",
    "OnBreach",
    "Period",
    "Policy",
    "Qualification",
    "ReportOptions",
    "RoutingRule",
    "Scoring",
    "SlaTier",
    "StatusAndReason",
    "Team",
]
