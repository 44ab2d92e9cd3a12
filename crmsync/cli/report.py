"""``crmsync report``: SLA compliance, first touch, cherry-pick index, capacity and dispositions for a period.

Reads the database named by the settings (``CRMSYNC_DATABASE_URL``) and the policy file
(``CRMSYNC_POLICY_FILE``); prints to standard output or writes ``--out``.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from crmsync.clock import SystemClock
from crmsync.errors import ConfigError
from crmsync.policy.loader import load_policy
from crmsync.reports import period as periods
from crmsync.reports.compute import Period, Report
from crmsync.reports.render_csv import render_csv
from crmsync.reports.render_html import render_html
from crmsync.reports.render_json import render_json
from crmsync.reports.render_terminal import render_terminal
from crmsync.reports.weekly import report_from_store, write_atomically
from crmsync.settings import load_settings
from crmsync.store.session import Database


class Format(StrEnum):
    """Output forms of ``crmsync report``."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    HTML = "html"


def report(
    since: Annotated[str | None, typer.Option("--since", help="Period up to now: 24h, 7d, 2w. Default 7d.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD, policy timezone).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day, included (YYYY-MM-DD).")] = None,
    output: Annotated[Format, typer.Option("--format", help="table, csv, json or html.")] = Format.TABLE,
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of standard output.")] = None,
) -> None:
    """Report SLA compliance, time to first touch, cherry-pick index, capacity and dispositions for a period."""
    settings = load_settings()
    policy = load_policy(settings.policy_file)
    now = SystemClock().now()
    period = _period(since, start, end, now, policy.business_calendar.tz)
    database = Database(settings.database_url)
    try:
        found = report_from_store(database, policy, period, now)
    finally:
        database.dispose()
    if out is None and output is Format.TABLE:
        render_terminal(found, console=Console())
        return
    text = _render(found, output)
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_atomically(out, text)
        typer.echo(f"wrote {out}")


def _period(since: str | None, start: str | None, end: str | None, now: datetime, tz: tzinfo) -> Period:
    if since is not None and (start is not None or end is not None):
        raise ConfigError(["give --since or --from/--to, not both"])
    if (start is None) != (end is None):
        raise ConfigError(["--from and --to go together"])
    if start is not None and end is not None:
        return periods.between(start, end, tz)
    return periods.since(since or "7d", now)


def _render(found: Report, output: Format) -> str:
    if output is Format.CSV:
        return render_csv(found)
    if output is Format.JSON:
        return render_json(found)
    if output is Format.HTML:
        return render_html(found)
    return render_terminal(found)
