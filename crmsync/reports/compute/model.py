"""The figures a report holds, as frozen values the renderers read. Pure.

Percentages are 0–100, durations are business minutes in the owner's calendar, ``None`` means "no data"
(nothing to divide by, or a sample below the minimum), never zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from crmsync.reports.compute.facts import Period


@dataclass(frozen=True, slots=True)
class GroupFigures:
    """The figures of one rep, team, source or campaign (``key``) for the period.

    Counts over ownerships that *started* in the period: ``mqls_assigned``, SLA and first-touch figures,
    touches and minutes per lead. Counts of events *in* the period: reassignments, recycles, breaches,
    early closes, dispositions. Counts over leads whose MQL date is in the period: ``mqls_delivered`` and
    ``converted``. ``stale_mqls`` is a snapshot at the report's ``as_of``.
    """

    key: str
    mqls_assigned: int
    sla_evaluated: int
    worked_within_sla: int
    worked_within_sla_pct: float | None
    first_touches: int
    median_first_touch_business_minutes: float | None
    p90_first_touch_business_minutes: float | None
    touches_per_lead: float | None
    touches_per_lead_by_channel: Mapping[str, float]
    minutes_per_lead: float | None
    breaches: int
    reassignments_in: int
    reassignments_out: int
    recycles: int
    early_closes: int
    dispositions: Mapping[str, int]
    stale_mqls: int
    stale_untouched: int
    mqls_delivered: int
    converted: int
    conversion_pct: float | None


@dataclass(frozen=True, slots=True)
class CherryPick:
    """Touch rate within SLA on attractive leads ÷ on the rest, with its 95 % Katz interval.

    ``index``, ``low`` and ``high`` are None when either segment has fewer than the minimum sample of
    leads, or when no lead of either was worked in time (nothing to compare); ``flagged`` is true only when
    the whole interval lies above 1.
    """

    index: float | None
    low: float | None
    high: float | None
    attractive_leads: int
    attractive_worked: int
    rest_leads: int
    rest_worked: int
    flagged: bool
    corrected: bool


@dataclass(frozen=True, slots=True)
class RepFigures:
    """One rep's figures, cherry-pick index and the concentration of their touches and effort."""

    owner_id: str
    email: str
    name: str
    team: str
    figures: GroupFigures
    cherry_pick: CherryPick
    touch_gini: float | None
    effort_gini: float | None


@dataclass(frozen=True, slots=True)
class CapacityDay:
    """One local day of a team: MQLs that arrived, leads it could take, backlog left at the end of the day."""

    day: date
    business_day: bool
    inflow: int
    capacity: float
    backlog: float


@dataclass(frozen=True, slots=True)
class TeamCapacityFigures:
    """A team's inflow against its capacity over the period, with the overflow it implies."""

    team: str
    members: int
    leads_per_day: float
    business_days: int
    inflow: int
    inflow_per_business_day: float | None
    capacity_total: float
    overflow: float
    peak_backlog: float
    end_backlog: float
    days: tuple[CapacityDay, ...]


@dataclass(frozen=True, slots=True)
class Report:
    """Everything a report shows for ``period``, computed as of ``as_of`` (usually the period's end)."""

    period: Period
    as_of: datetime
    timezone: str
    min_sample: int
    totals: GroupFigures
    reps: tuple[RepFigures, ...]
    teams: tuple[GroupFigures, ...]
    sources: tuple[GroupFigures, ...]
    campaigns: tuple[GroupFigures, ...]
    capacity: tuple[TeamCapacityFigures, ...]
    first_touch_histogram: tuple[tuple[str, int], ...]
