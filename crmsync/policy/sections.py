"""The sections of a policy file as typed, frozen values (DESIGN §4). Pure; :mod:`.model` assembles them.

Every section rejects unknown keys. Checks on a single value (a duration, a timezone, an email address, a
regular expression) are validators here; checks across sections live in :mod:`crmsync.policy.checks`.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, field_validator, model_validator

from crmsync.policy.calendar import BusinessCalendar, HourRange, holiday_lookup, parse_hours, weekday_number
from crmsync.policy.checks import DEFAULT_RECYCLE_STATUS, RECYCLE_REASON, UNRESPONSIVE_REASON
from crmsync.policy.conditions import Condition
from crmsync.policy.durations import Duration

EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")
DEFAULT_PERSONAL_DOMAINS = (
    "gmail.com", "googlemail.com", "yahoo.com", "ymail.com", "hotmail.com", "outlook.com", "live.com",
    "msn.com", "aol.com", "icloud.com", "me.com", "mac.com", "proton.me", "protonmail.com", "gmx.com",
    "gmx.de", "gmx.net", "web.de", "mail.com", "yandex.ru", "mail.ru", "qq.com", "163.com", "126.com",
    "comcast.net", "verizon.net", "att.net", "hey.com", "fastmail.com", "zoho.com",
)  # fmt: skip


class StrictModel(BaseModel):
    """Base of every policy section: frozen, unknown keys rejected, keys spelt as in the file."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_by_alias=True, validate_by_name=False)


def _email(value: str) -> str:
    cleaned = value.strip().lower()
    if not EMAIL.match(cleaned):
        raise ValueError(f"{value!r} is not an email address")
    return cleaned


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except Exception:  # ZoneInfo raises ValueError, ZoneInfoNotFoundError or OSError on odd names
        raise ValueError(f"unknown timezone {value!r}: use an IANA name such as America/New_York") from None
    return value


def _domain(value: str) -> str:
    cleaned = value.strip().lower().lstrip("@")
    if not DOMAIN.match(cleaned):
        raise ValueError(f"{value!r} is not a domain name")
    return cleaned


def _sender(value: str) -> str:
    cleaned = value.strip().lower()
    if cleaned.startswith("@"):
        return "@" + _domain(cleaned)
    if not EMAIL.match(cleaned):
        raise ValueError(f"{value!r} is neither an email address nor an @domain")
    return cleaned


Email = Annotated[str, BeforeValidator(lambda v: _email(v) if isinstance(v, str) else v)]
Sender = Annotated[str, BeforeValidator(lambda v: _sender(v) if isinstance(v, str) else v)]
TimezoneName = Annotated[str, BeforeValidator(lambda v: _timezone(v) if isinstance(v, str) else v)]
DomainName = Annotated[str, BeforeValidator(lambda v: _domain(v) if isinstance(v, str) else v)]
Name = Annotated[str, Field(min_length=1)]


# -- calendar ------------------------------------------------------------------------------------------------


def _hours_input(value: object) -> object:
    if isinstance(value, str):
        return parse_hours(value)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return parse_hours(",".join(value))
    return value


def _hours_text(ranges: tuple[HourRange, ...]) -> str:
    return ",".join(str(r) for r in ranges)


class CalendarSpec(StrictModel):
    """Working time of the organisation; reps may override the timezone and add out-of-office periods."""

    timezone: TimezoneName = Field(default="UTC", description="IANA timezone, e.g. America/New_York.")
    workdays: tuple[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], ...] = Field(
        default=("mon", "tue", "wed", "thu", "fri"), min_length=1
    )
    hours: Annotated[
        tuple[HourRange, ...],
        BeforeValidator(_hours_input, json_schema_input_type=str | list[str]),
        PlainSerializer(_hours_text, return_type=str),
    ] = Field(default=(HourRange(540, 1020),), description='"09:00-17:00" or "09:00-12:00,13:00-17:00".')
    holidays: str | None = Field(
        default=None, description='Public holidays: a country, or country/subdivision ("US/NY").'
    )
    extra_holidays: tuple[date, ...] = Field(default=(), description="More days off, as YYYY-MM-DD.")

    @field_validator("holidays")
    @classmethod
    def _known_holidays(cls, spec: str | None) -> str | None:
        if spec is not None:
            holiday_lookup(spec)
        return spec

    @field_validator("workdays")
    @classmethod
    def _unique_days(cls, days: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(days)) != len(days):
            raise ValueError("a weekday is listed twice")
        return days

    def build(self) -> BusinessCalendar:
        """The organisation's :class:`BusinessCalendar`."""
        return BusinessCalendar(
            self.timezone, [weekday_number(d) for d in self.workdays], self.hours, self.holidays, self.extra_holidays
        )


# -- fields --------------------------------------------------------------------------------------------------


class FieldMap(StrictModel):
    """Logical field names → CRM field names. Conditions may use either; unmapped names are used as written."""

    score: str | None = None
    status: str | None = None
    disposition: str | None = None
    crmsync_status: str | None = None
    sla_due: str | None = None
    reassignment_count: str | None = None
    lead_source: str | None = None
    lifecycle_stage: str | None = None
    email: str | None = None
    title: str | None = None
    company: str | None = None
    company_size: str | None = None
    country: str | None = None
    grade: str | None = None

    def as_mapping(self) -> dict[str, str]:
        """The mapped names only."""
        return {k: v for k, v in self.model_dump().items() if isinstance(v, str) and v}


# -- qualification and scoring -------------------------------------------------------------------------------


class Qualification(StrictModel):
    """Which leads are MQLs (the only leads reps see) and where the others wait."""

    mql_when: Condition
    holding_owner: Name = Field(description='"queue:<name>", "user:<email>" or a CRM owner id.')


class FitComponent(StrictModel):
    """Points for a lead attribute (company size, title...)."""

    name: Name
    when: Condition
    points: float


class EngagementComponent(StrictModel):
    """Points per engagement signal, decaying with the section's half-life; ``max_points`` caps the component."""

    name: Name
    signal: Literal["reply", "meeting", "call", "email", "form", "page_view"]
    points: float
    max_points: float | None = Field(default=None, gt=0)


class FitScoring(StrictModel):
    components: tuple[FitComponent, ...] = Field(min_length=1)
    cap: float = Field(default=50, gt=0)


class EngagementScoring(StrictModel):
    components: tuple[EngagementComponent, ...] = Field(min_length=1)
    cap: float = Field(default=50, gt=0)
    half_life: Duration = Field(default=Duration(days=14, calendar=True), description="e.g. 'calendar 14d'.")

    @field_validator("half_life")
    @classmethod
    def _elapsed(cls, value: Duration) -> Duration:
        if not value.calendar or value.is_zero:
            raise ValueError("half_life is elapsed time and not zero: write it like 'calendar 14d'")
        return value


class Scoring(StrictModel):
    """Optional score = fit (capped) + decayed engagement (capped); grades by minimum score, best first."""

    fit: FitScoring | None = None
    engagement: EngagementScoring | None = None
    grades: dict[str, float] = Field(default_factory=lambda: {"A": 80.0, "B": 60.0, "C": 0.0}, min_length=1)
    write_to: str = Field(default="score", description="Logical field the score is written to.")


# -- teams ---------------------------------------------------------------------------------------------------


class Period(StrictModel):
    """An out-of-office period. Dates are whole days in the rep's timezone, ``end`` included."""

    start: datetime | date
    end: datetime | date

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if _as_datetime(self.end, end=True) <= _as_datetime(self.start, end=False):
            raise ValueError(f"out-of-office period ends ({self.end}) before it starts ({self.start})")
        return self

    def resolve(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The period as aware instants: naive values and dates are read in ``tz``."""
        return _as_datetime(self.start, end=False, tz=tz), _as_datetime(self.end, end=True, tz=tz)


def _as_datetime(value: datetime | date, *, end: bool, tz: ZoneInfo | None = None) -> datetime:
    zone = tz or ZoneInfo("UTC")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    day = value + timedelta(days=1) if end else value
    return datetime.combine(day, time(0), tzinfo=zone)


class Member(StrictModel):
    """A rep in a team. In the file, a bare email address is a member with defaults."""

    email: Email
    timezone: TimezoneName | None = Field(default=None, description="Overrides the calendar's timezone.")
    out_of_office: tuple[Period, ...] = ()
    skills: tuple[Name, ...] = ()
    weight: float = Field(default=1.0, gt=0, description="Share of leads under the weighted method.")


def _member_input(value: object) -> object:
    return {"email": value} if isinstance(value, str) else value


class Capacity(StrictModel):
    """Daily capacity as ``leads_per_day``, or as ``focus_minutes_per_day`` / ``minutes_per_lead``."""

    leads_per_day: int | None = Field(default=None, ge=1)
    focus_minutes_per_day: int | None = Field(default=None, ge=1, le=1440)
    minutes_per_lead: int | None = Field(default=None, ge=1)
    max_open_leads: int | None = Field(default=None, ge=1, description="Open-lead cap per rep.")

    @model_validator(mode="after")
    def _one_form(self) -> Capacity:
        minutes = (self.focus_minutes_per_day, self.minutes_per_lead)
        if self.leads_per_day is not None:
            if any(m is not None for m in minutes):
                raise ValueError("give leads_per_day or focus_minutes_per_day/minutes_per_lead, not both")
        elif None in minutes:
            raise ValueError("give leads_per_day, or both focus_minutes_per_day and minutes_per_lead")
        return self

    @property
    def daily_leads(self) -> int:
        """Leads a rep may receive per day (360 focus minutes / 18 minutes per lead = 20)."""
        if self.leads_per_day is not None:
            return self.leads_per_day
        assert self.focus_minutes_per_day is not None
        assert self.minutes_per_lead is not None
        return max(1, self.focus_minutes_per_day // self.minutes_per_lead)


class Team(StrictModel):
    """A named set of reps with a capacity; ``skills`` are held by every member."""

    members: tuple[Annotated[Member, BeforeValidator(_member_input, json_schema_input_type=Email | Member)], ...] = (
        Field(min_length=1)
    )
    capacity: Capacity
    skills: tuple[Name, ...] = ()
    manager: Email | None = Field(default=None, description="Gets the flag tasks for early closes.")
    holding_owner: Name | None = Field(default=None, description="Defaults to qualification.holding_owner.")

    def member_skills(self, member: Member) -> frozenset[str]:
        """The member's own skills plus the team's."""
        return frozenset(member.skills) | frozenset(self.skills)


# -- routing, SLA, breach, dispositions ------------------------------------------------------------------------


class RoutingRule(StrictModel):
    """Tried in order: the first rule whose ``when`` matches (no ``when``: always) names the team."""

    name: Name
    when: Condition | None = None
    team: Name
    method: Literal["round_robin", "least_loaded", "weighted"] = "round_robin"
    skills: tuple[Name, ...] = Field(default=(), description="Skills a rep needs to be eligible.")
    working_hours_only: bool = Field(default=True, description="Only reps inside their working hours.")


class Mix(StrictModel):
    """Minimum touches by channel within the follow-up window."""

    calls: int = Field(default=0, ge=0)
    emails: int = Field(default=0, ge=0)
    meetings: int = Field(default=0, ge=0)

    @property
    def total(self) -> int:
        return self.calls + self.emails + self.meetings


class FollowUp(StrictModel):
    """``touches`` (the first touch included) within ``within`` of assignment, no gap over ``max_gap``."""

    touches: int = Field(ge=1)
    within: Duration
    mix: Mix = Mix()
    max_gap: Duration | None = None


class SlaTier(StrictModel):
    """The promise for leads matching ``when`` (tiers are tried in order; no ``when``: always)."""

    name: Name
    when: Condition | None = None
    first_touch: Duration
    follow_up: FollowUp | None = None
    count_automated: bool = Field(default=False, description="Do automated emails (sequences) count?")
    channels: tuple[Literal["email", "call", "meeting"], ...] = Field(
        default=("email", "call", "meeting"), min_length=1, description="Which touches count."
    )


class StatusAndReason(StrictModel):
    status: Name
    reason: Name = Field(description="Written to the disposition field; placeholders like {reassignments}.")


class OnBreach(StrictModel):
    """Reassign on a breach up to ``max_reassignments`` times, then recycle."""

    max_reassignments: int = Field(default=2, ge=0)
    recycle: StatusAndReason = StatusAndReason(status=DEFAULT_RECYCLE_STATUS, reason=RECYCLE_REASON)
    unresponsive: StatusAndReason = Field(
        default=StatusAndReason(status=DEFAULT_RECYCLE_STATUS, reason=UNRESPONSIVE_REASON),
        description="Where a completed cadence without reply goes; default: the recycle status.",
    )

    @model_validator(mode="before")
    @classmethod
    def _default_unresponsive(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("unresponsive") is None:
            recycle = data.get("recycle")
            status = recycle.get("status") if isinstance(recycle, dict) else getattr(recycle, "status", None)
            status = status if isinstance(status, str) else DEFAULT_RECYCLE_STATUS
            return {**data, "unresponsive": {"status": status, "reason": UNRESPONSIVE_REASON}}
        return data


class Dispositions(StrictModel):
    """What closing a lead requires: a listed reason and a minimum effort."""

    closed_statuses: tuple[Name, ...] = Field(min_length=1)
    reasons: tuple[Name, ...] = Field(min_length=1)
    min_touches_before_close: int = Field(default=0, ge=0)
    min_channels_before_close: int = Field(default=1, ge=1, le=3)
    on_early_close: Literal["reopen", "flag"] = "flag"


class CaptureOptions(StrictModel):
    """What activity capture logs, and what it ignores."""

    body: Literal["none", "snippet", "full"] = "snippet"
    internal_domains: tuple[DomainName, ...] = Field(default=(), description="Your own domains.")
    never_log_domains: tuple[DomainName, ...] = ()
    personal_domains: tuple[DomainName, ...] = DEFAULT_PERSONAL_DOMAINS
    sequence_senders: tuple[Sender, ...] = Field(default=(), description="Addresses or @domains of automated senders.")
    create_missing_contacts: bool = False


class ReportOptions(StrictModel):
    """The "attractive" segment for the cherry-pick index, and report constants."""

    attractive: Condition | None = None
    minutes_per_email: float = Field(default=3.0, gt=0)
    min_sample: int = Field(default=20, ge=1, description="Fewer leads than this: no index for the rep.")
