"""MQL inflow against each team's capacity, day by day. Pure.

Days are local days of the organisation's calendar. A business day is one with working time; its capacity
is the team's ``members × leads per member per day``; other days have none. MQLs that arrive when capacity
is used up (or on a weekend) carry over as backlog: ``backlog = max(0, backlog before + inflow − capacity)``.
The overflow a period implies is ``max(0, inflow − capacity over the period)``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from crmsync.policy.calendar import BusinessCalendar
from crmsync.reports.compute.facts import Period
from crmsync.reports.compute.model import CapacityDay, TeamCapacityFigures
from crmsync.reports.compute.rules import ReportRules


def local_day(calendar: BusinessCalendar, instant: datetime) -> date:
    """The organisation's local date of ``instant``."""
    return instant.astimezone(calendar.tz).date()


def _days(calendar: BusinessCalendar, period: Period) -> Iterator[tuple[date, bool]]:
    day = local_day(calendar, period.start)
    last = local_day(calendar, period.end - timedelta(microseconds=1))
    while day <= last:
        start = datetime.combine(day, time(0), tzinfo=calendar.tz)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=calendar.tz)
        yield day, calendar.between(start, end) > timedelta(0)
        day += timedelta(days=1)


def capacity_figures(
    inflow: Counter[tuple[str, date]], rules: ReportRules, period: Period
) -> tuple[TeamCapacityFigures, ...]:
    """Each policy team's daily inflow, capacity and backlog over ``period``, then any other team with inflow.

    ``inflow`` counts MQLs by (team, local arrival date).
    """
    days = list(_days(rules.calendar, period))
    known = {t.name: (len(t.members), t.leads_per_member_per_day) for t in rules.teams}
    extra = sorted({team for team, _ in inflow} - known.keys())
    return tuple(_team(name, *known.get(name, (0, 0.0)), days=days, inflow=inflow) for name in [*known, *extra])


def _team(
    name: str, members: int, per_member: float, *, days: list[tuple[date, bool]], inflow: Counter[tuple[str, date]]
) -> TeamCapacityFigures:
    per_day = members * per_member
    backlog = peak = 0.0
    series: list[CapacityDay] = []
    for day, working in days:
        capacity = per_day if working else 0.0
        arrived = inflow[(name, day)]
        backlog = max(0.0, backlog + arrived - capacity)
        peak = max(peak, backlog)
        series.append(CapacityDay(day, working, arrived, capacity, backlog))
    business = sum(1 for _, working in days if working)
    total_in = sum(d.inflow for d in series)
    total_capacity = per_day * business
    return TeamCapacityFigures(
        team=name,
        members=members,
        leads_per_day=per_day,
        business_days=business,
        inflow=total_in,
        inflow_per_business_day=total_in / business if business else None,
        capacity_total=total_capacity,
        overflow=max(0.0, total_in - total_capacity),
        peak_backlog=peak,
        end_backlog=backlog,
        days=tuple(series),
    )
