"""The report as plain JSON-ready data, shared by the JSON and CSV renderers. Pure.

Figures are rounded for readers (percentages and minutes to 0.1, ratios and Gini coefficients to 0.001);
``None`` stays ``null``: no data, never zero.
"""

from __future__ import annotations

from typing import Any

from crmsync.reports.compute import GroupFigures, RepFigures, Report, TeamCapacityFigures


def rounded(value: float | None, digits: int = 1) -> float | None:
    """``value`` rounded to ``digits`` decimals (None stays None; -0.0 becomes 0.0)."""
    return None if value is None else round(value, digits) + 0.0


def group_dict(figures: GroupFigures) -> dict[str, Any]:
    """A group's figures as a flat mapping (channels and dispositions as nested mappings)."""
    return {
        "mqls_assigned": figures.mqls_assigned,
        "sla_evaluated": figures.sla_evaluated,
        "worked_within_sla": figures.worked_within_sla,
        "worked_within_sla_pct": rounded(figures.worked_within_sla_pct),
        "first_touches": figures.first_touches,
        "median_first_touch_business_minutes": rounded(figures.median_first_touch_business_minutes),
        "p90_first_touch_business_minutes": rounded(figures.p90_first_touch_business_minutes),
        "touches_per_lead": rounded(figures.touches_per_lead, 2),
        "touches_per_lead_by_channel": {k: rounded(v, 2) for k, v in figures.touches_per_lead_by_channel.items()},
        "minutes_per_lead": rounded(figures.minutes_per_lead),
        "breaches": figures.breaches,
        "reassignments_in": figures.reassignments_in,
        "reassignments_out": figures.reassignments_out,
        "recycles": figures.recycles,
        "early_closes": figures.early_closes,
        "dispositions": dict(figures.dispositions),
        "stale_mqls": figures.stale_mqls,
        "stale_untouched": figures.stale_untouched,
        "mqls_delivered": figures.mqls_delivered,
        "converted": figures.converted,
        "conversion_pct": rounded(figures.conversion_pct),
    }


def rep_dict(rep: RepFigures) -> dict[str, Any]:
    """A rep's figures, cherry-pick index (interval as ``[low, high]`` or null) and Gini coefficients."""
    cherry = rep.cherry_pick
    interval = None if cherry.low is None or cherry.high is None else [rounded(cherry.low, 3), rounded(cherry.high, 3)]
    return {
        "email": rep.email,
        "name": rep.name,
        "owner_id": rep.owner_id,
        "team": rep.team,
        **group_dict(rep.figures),
        "cherry_pick_index": rounded(cherry.index, 3),
        "cherry_pick_interval": interval,
        "cherry_pick_flagged": cherry.flagged,
        "cherry_pick_sample": {
            "attractive_leads": cherry.attractive_leads,
            "attractive_worked": cherry.attractive_worked,
            "rest_leads": cherry.rest_leads,
            "rest_worked": cherry.rest_worked,
            "zero_cell_corrected": cherry.corrected,
        },
        "touch_gini": rounded(rep.touch_gini, 3),
        "effort_gini": rounded(rep.effort_gini, 3),
    }


def capacity_dict(team: TeamCapacityFigures) -> dict[str, Any]:
    """A team's capacity summary and its daily series."""
    return {
        "team": team.team,
        "members": team.members,
        "leads_per_day": rounded(team.leads_per_day, 2),
        "business_days": team.business_days,
        "inflow": team.inflow,
        "inflow_per_business_day": rounded(team.inflow_per_business_day, 2),
        "capacity_total": rounded(team.capacity_total, 2),
        "overflow": rounded(team.overflow, 2),
        "peak_backlog": rounded(team.peak_backlog, 2),
        "end_backlog": rounded(team.end_backlog, 2),
        "days": [
            {
                "date": d.day.isoformat(),
                "business_day": d.business_day,
                "inflow": d.inflow,
                "capacity": rounded(d.capacity, 2),
                "backlog": rounded(d.backlog, 2),
            }
            for d in team.days
        ],
    }


def report_dict(report: Report) -> dict[str, Any]:
    """The whole report: ``period``, ``totals``, ``reps``, ``teams``, ``sources``, ``campaigns``, ``capacity``."""
    return {
        "period": {
            "start": report.period.start.isoformat(),
            "end": report.period.end.isoformat(),
            "as_of": report.as_of.isoformat(),
            "timezone": report.timezone,
        },
        "min_sample": report.min_sample,
        "totals": group_dict(report.totals),
        "reps": [rep_dict(r) for r in report.reps],
        "teams": [{"team": t.key, **group_dict(t)} for t in report.teams],
        "sources": [{"source": s.key, **group_dict(s)} for s in report.sources],
        "campaigns": [{"campaign": c.key, **group_dict(c)} for c in report.campaigns],
        "capacity": [capacity_dict(t) for t in report.capacity],
        "first_touch_histogram": [{"bucket": b, "count": n} for b, n in report.first_touch_histogram],
    }
