"""Build reports from the store, and write the weekly HTML page the daemon publishes and the demo shows (shell).

``write_weekly_report`` is the one call the daemon's weekly job and the demo make. It reads in one read
transaction, renders, and writes the page atomically (a temporary file renamed into place), so a reader of
the folder never sees half a page.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import structlog
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from crmsync.policy.model import Policy
from crmsync.reports.compute import Period, Report, build_report
from crmsync.reports.compute.policy_view import report_rules
from crmsync.reports.load import load_histories, load_reps
from crmsync.reports.period import weekly
from crmsync.reports.render_html import render_html
from crmsync.store.session import Database

log = structlog.get_logger(__name__)
StoreHandle = Database | Engine | Session


@contextmanager
def _reading(store: StoreHandle) -> Iterator[Session]:
    if isinstance(store, Session):
        yield store
    elif isinstance(store, Database):
        with store.transaction() as session:
            yield session
    else:
        with Session(store) as session, session.begin():
            yield session


def report_from_store(store: StoreHandle, policy: Policy, period: Period, now: datetime) -> Report:
    """The report of ``period`` as of ``now``, from the store behind ``store`` (a Database, Engine or Session)."""
    rules = report_rules(policy)
    with _reading(store) as session:
        reps = load_reps(session)
        return build_report(load_histories(session, policy, period, now), reps, rules, period, now)


def weekly_report_name(period: Period) -> str:
    """``crmsync-report-2026-03-02_to_2026-03-09.html`` (the period's UTC start and end dates)."""
    return f"crmsync-report-{period.start:%Y-%m-%d}_to_{period.end:%Y-%m-%d}.html"


def write_weekly_report(store: StoreHandle, policy: Policy, now: datetime, folder: str | Path) -> Path:
    """Write the HTML report of the seven days up to ``now`` into ``folder`` (created if missing); its path.

    A report for the same period overwrites the previous one. Raises ``OSError`` when the folder cannot be
    written.
    """
    period = weekly(now)
    report = report_from_store(store, policy, period, now)
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    path = target / weekly_report_name(period)
    write_atomically(path, render_html(report))
    log.info("weekly_report_written", path=str(path), reps=len(report.reps), mqls=report.totals.mqls_delivered)
    return path


def write_atomically(path: Path, content: str) -> None:
    """Write ``content`` (UTF-8) to ``path`` through a temporary file in the same folder and a rename."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(content)
        os.chmod(temporary, 0o644)  # mkstemp makes it 0600; a report is meant to be read by others
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
