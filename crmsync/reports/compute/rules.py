"""What the report computations need from the policy, as one small frozen value. Pure.

:func:`crmsync.reports.policy_view.report_rules` builds it from a loaded policy; tests build it by hand.
Keeping the computations on this narrow view means they do not change when unrelated policy sections do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from crmsync.policy.calendar import BusinessCalendar
from crmsync.policy.durations import Duration

FieldTest = Callable[[Mapping[str, object]], bool]
STALE_AFTER = timedelta(days=7)
"""An MQL this long past its MQL date (elapsed time) and still open is stale."""
NO_TEAM = "(no team)"


def _never(_fields: Mapping[str, object]) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class TeamCapacity:
    """A team of the policy: member emails (lower case) and how many new leads one member can take a day."""

    name: str
    members: tuple[str, ...]
    leads_per_member_per_day: float

    @property
    def leads_per_day(self) -> float:
        """The team's capacity for new leads per business day: members × leads per member per day."""
        return len(self.members) * self.leads_per_member_per_day


@dataclass(frozen=True, slots=True)
class SlaTier:
    """One SLA tier: leads it applies to, the first-touch limit (business time unless marked calendar), and
    which touches count (channels; automated email only when ``count_automated``)."""

    name: str
    applies: FieldTest
    first_touch: Duration | timedelta
    count_automated: bool = False
    channels: tuple[str, ...] = ("email", "call", "meeting")


@dataclass(frozen=True)
class ReportRules:
    """The policy as the reports read it.

    ``calendar`` is the organisation's business calendar; each rep's is the same with the rep's timezone.
    ``attractive`` is the policy's "attractive" segment test over lead fields. ``holding_owners`` holds the
    owner ids and emails where leads wait (never counted as reps). ``rule_teams`` maps routing-rule names to
    team names, so an assignment is counted for the team its rule routed to. ``member_calendar`` gives the
    policy's own calendar of a rep by email (timezone and out-of-office), None for reps it does not list.
    A recycle whose reason starts with ``unresponsive_reason`` closed a completed cadence: no breach.
    """

    calendar: BusinessCalendar
    teams: tuple[TeamCapacity, ...] = ()
    tiers: tuple[SlaTier, ...] = ()
    attractive: FieldTest = _never
    minutes_per_email: float = 3.0
    min_sample: int = 20
    min_touches_before_close: int = 0
    holding_owners: frozenset[str] = frozenset()
    rule_teams: Mapping[str, str] = field(default_factory=dict)
    stale_after: timedelta = STALE_AFTER
    unresponsive_reason: str = "Unresponsive"
    member_calendar: Callable[[str], BusinessCalendar | None] | None = None
    _calendars: dict[str | None, BusinessCalendar] = field(default_factory=dict, compare=False, repr=False)

    def team_of(self, email: str | None) -> str:
        """The first team (in policy order) listing ``email``, else :data:`NO_TEAM`."""
        wanted = (email or "").strip().lower()
        return next((t.name for t in self.teams if wanted and wanted in t.members), NO_TEAM)

    def calendar_for(self, email: str | None, timezone: str | None) -> BusinessCalendar:
        """A rep's calendar: the policy's for its members, else the organisation's in the rep's CRM timezone."""
        if email and self.member_calendar is not None:
            own = self.member_calendar(email)
            if own is not None:
                return own
        found = self._calendars.get(timezone)
        if found is None:
            found = self.calendar if timezone is None else self.calendar.with_person(timezone, ())
            self._calendars[timezone] = found
        return found

    def tier_for(self, tier: str | None, fields: Mapping[str, object]) -> SlaTier | None:
        """The tier named ``tier`` (the lead's stored tier), else the first whose condition holds, else None."""
        chosen = next((t for t in self.tiers if tier is not None and t.name == tier), None)
        return chosen or next((t for t in self.tiers if t.applies(fields)), None)
