"""The report as rich tables for the terminal: reps, teams, sources, campaigns and capacity."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table

from crmsync.reports import text
from crmsync.reports.compute import GroupFigures, Report


def tables(report: Report) -> list[Table]:
    """The report's tables, in reading order."""
    return [
        _reps(report),
        _groups("Teams", "team", report.teams),
        _groups("Sources", "source", report.sources),
        _groups("Campaigns", "campaign", report.campaigns),
        _capacity(report),
    ]


def render_terminal(report: Report, console: Console | None = None, width: int = 180) -> str:
    """Print the tables on ``console`` (or render them to plain text at ``width`` columns) and return the text.

    Without a console the text has no colour codes, so it can be compared with a golden file.
    """
    target = console or Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False)
    target.print(f"crmsync report {text.period_title(report)}, as of {report.as_of.isoformat()}")
    for table in tables(report):
        target.print(table)
    stream = target.file
    return stream.getvalue() if isinstance(stream, io.StringIO) else ""


def _reps(report: Report) -> Table:
    table = Table(title=f"Reps (cherry-pick index needs ≥ {report.min_sample} leads in each segment)")
    table.add_column("rep", no_wrap=True)
    table.add_column("team")
    for column in ("MQLs", "in SLA", "1st median", "1st p90", "touch/lead", "min/lead", "breach", "re in/out"):
        table.add_column(column, justify="right")
    for column in ("early close", "stale", "cherry-pick index", "Gini"):
        table.add_column(column, justify="right", no_wrap=column == "cherry-pick index")
    for rep in report.reps:
        f = rep.figures
        table.add_row(
            rep.email, rep.team, str(f.mqls_assigned), text.pct(f.worked_within_sla_pct),
            text.minutes(f.median_first_touch_business_minutes), text.minutes(f.p90_first_touch_business_minutes),
            text.number(f.touches_per_lead, 2), text.number(f.minutes_per_lead),
            str(f.breaches), f"{f.reassignments_in}/{f.reassignments_out}", str(f.early_closes),
            str(f.stale_mqls), text.cherry(rep.cherry_pick, report.min_sample), text.number(rep.touch_gini, 2),
        )  # fmt: skip
    return table


def _groups(title: str, name: str, groups: tuple[GroupFigures, ...]) -> Table:
    table = Table(title=title)
    table.add_column(name)
    for column in ("MQLs delivered", "assigned", "in SLA", "median 1st", "touches/lead", "converted", "stale"):
        table.add_column(column, justify="right")
    table.add_column("dispositions")
    for g in groups:
        mix = ", ".join(f"{reason} {count}" for reason, count in g.dispositions.items()) or text.NONE
        table.add_row(
            g.key, str(g.mqls_delivered), str(g.mqls_assigned), text.pct(g.worked_within_sla_pct),
            text.minutes(g.median_first_touch_business_minutes), text.number(g.touches_per_lead, 2),
            f"{g.converted} ({text.pct(g.conversion_pct)})", str(g.stale_mqls), mix,
        )  # fmt: skip
    return table


def _capacity(report: Report) -> Table:
    table = Table(title="Capacity vs inflow (business days)")
    table.add_column("team")
    for column in ("members", "capacity/day", "inflow", "inflow/day", "overflow", "peak backlog", "end backlog"):
        table.add_column(column, justify="right")
    for t in report.capacity:
        table.add_row(
            t.team, str(t.members), text.number(t.leads_per_day), str(t.inflow),
            text.number(t.inflow_per_business_day, 2), text.number(t.overflow), text.number(t.peak_backlog),
            text.number(t.end_backlog),
        )  # fmt: skip
    return table
