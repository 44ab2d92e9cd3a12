"""``crmsync demo``: the same simulated sales team without crmsync and with it, side by side.

Builds the sandbox's simulated Salesforce org in-process (no CRM account needed), runs the simulated period
twice from the same seed — the org alone, then with the real daemon on an accelerated clock on SQLite in
``--out`` — shows a progress bar, and prints the before/after comparison. The database and an HTML report
stay in ``--out``. With ``--json`` the last line on stdout is one JSON object ``{"without": {...},
"with": {...}}``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from crmsync.demo.outcome import Outcome
from crmsync.demo.runner import DemoConfig, DemoResult, run_demo
from crmsync.logging import configure_logging

JSON_KEYS = (
    "mqls",
    "touched_within_sla_pct",
    "never_touched",
    "median_first_touch_business_minutes",
    "reassignments",
    "recycled",
    "pipeline",
)


def demo(
    weeks: Annotated[float, typer.Option(min=0.1, max=12, help="Simulated weeks.")] = 3.0,
    seed: Annotated[int, typer.Option(help="Seed of the simulated org (both runs use it).")] = 1,
    out: Annotated[Path, typer.Option(help="Folder for the database and the HTML report.")] = Path("demo-output"),
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON line of both runs' figures.")] = False,
) -> None:
    """Run the sandbox team without and with crmsync over the same simulated weeks; print the difference."""
    console = Console(stderr=as_json)
    configure_logging("warning", "console", stream=typer.get_text_stream("stderr"))
    columns = (TextColumn("{task.description:<16}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=False) as bar:
        tasks = {name: bar.add_task(name, total=1.0) for name in ("without crmsync", "with crmsync")}

        def progress(phase: str, fraction: float) -> None:
            bar.update(tasks[phase], completed=min(1.0, fraction))

        result = run_demo(DemoConfig(weeks=weeks, seed=seed), out, progress)
    _print(console, result, weeks)
    if as_json:
        typer.echo(json.dumps({"without": _figures(result.without), "with": _figures(result.with_crmsync)}))


def _figures(outcome: Outcome) -> dict[str, Any]:
    data = outcome.as_json()
    return {key: data[key] for key in JSON_KEYS}


def _print(console: Console, result: DemoResult, weeks: float) -> None:
    before, after = result.without, result.with_crmsync
    table = Table(title=f"The same team over {weeks:g} simulated weeks", title_justify="left")
    table.add_column("")
    table.add_column("without crmsync", justify="right")
    table.add_column("with crmsync", justify="right")
    rows = [
        ("MQLs", before.mqls, after.mqls),
        ("touched within SLA", f"{before.touched_within_sla_pct:.1f} %", f"{after.touched_within_sla_pct:.1f} %"),
        ("never touched", before.never_touched, after.never_touched),
        ("median first touch (business min)", before.median_first_touch_business_minutes,
         after.median_first_touch_business_minutes),
        ("reassignments", before.reassignments, after.reassignments),
        ("recycled", before.recycled, after.recycled),
        ("pipeline (leads converted)", before.pipeline, after.pipeline),
    ]  # fmt: skip
    for label, left, right in rows:
        table.add_row(label, _cell(left), _cell(right))
    console.print(table)
    picks = Table(title="Cherry-pick index per rep (1.0 = even-handed; – = nothing to compare)", title_justify="left")
    picks.add_column("rep")
    picks.add_column("without", justify="right")
    picks.add_column("with", justify="right")
    for rep, value in before.cherry_pick.items():
        picks.add_row(rep, _cell(value), _cell(after.cherry_pick.get(rep)))
    console.print(picks)
    reasons = ", ".join(f"{reason} × {count}" for reason, count in after.recycle_reasons.items()) or "none"
    console.print(f"Recycles with crmsync, by reason: {reasons}")
    console.print(f"Cycles run: {result.cycles}. Database: {result.database}. HTML report: {result.report}")


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if value == math.inf:
        return "∞ (attractive only)"
    return str(value)
