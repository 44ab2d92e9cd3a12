"""``crmsync sync --once`` and ``crmsync apply``: run cycles from the command line.

``sync --once`` runs one cycle of every configured connection (or of ``--connection``), going on to the next
when one fails (exit 1 then); ``--pull-only`` only pulls into the local store (changed leads are marked due, so
the next cycle decides them). ``apply`` runs one cycle of one connection: pull, decide, enqueue, dispatch, and
prints its summary. The daemon (``crmsync run``) runs the same cycle on a schedule.
"""

from __future__ import annotations

from typing import Annotated

import typer

from crmsync.cli.common import EXIT_CONFIG, EXIT_FAILURE
from crmsync.cli.shell import ConnectionOption, open_runtime
from crmsync.errors import ConfigError, CrmsyncError
from crmsync.runtime import Runtime
from crmsync.sync.cycle import CycleReport
from crmsync.sync.pull import PullReport, pull


def sync(
    once: Annotated[bool, typer.Option("--once", help="Run one cycle and exit (the daemon is `crmsync run`).")] = False,
    pull_only: Annotated[bool, typer.Option("--pull-only", help="Only pull into the local store.")] = False,
    connection: ConnectionOption = None,
) -> None:
    """Run one cycle (pull, decide, enqueue, dispatch) of every connection, or only pull with --pull-only."""
    if not once:
        typer.echo("crmsync sync needs --once (run the daemon with `crmsync run`)", err=True)
        raise typer.Exit(EXIT_CONFIG)
    failed = False
    with open_runtime() as runtime:
        names = [runtime.connection(connection).name] if connection else runtime.connection_names
        for name in names:
            try:
                failed = _once(runtime, name, pull_only) or failed
            except ConfigError:
                raise
            except CrmsyncError as err:  # one connection failing (auth, outage) does not stop the others
                typer.echo(f"{name}: error: {err}", err=True)
                failed = True
    if failed:
        raise typer.Exit(EXIT_FAILURE)


def _once(runtime: Runtime, name: str, pull_only: bool) -> bool:
    """One pull or cycle of ``name``, summarised on one line; True when actions died."""
    if pull_only:
        typer.echo(pull_summary(name, pull(runtime.db, runtime.port(name), runtime.clock)))
        return False
    report = runtime.cycle(name).run()
    typer.echo(cycle_summary(report))
    return _dead(report) > 0


def apply(connection: ConnectionOption = None) -> None:
    """Run one cycle of a connection: pull, decide, enqueue and dispatch; print what it did."""
    with open_runtime() as runtime:
        name = runtime.connection(connection).name
        report = runtime.cycle(name).run()
    typer.echo(cycle_summary(report))
    for problem in report.problems:
        typer.echo(f"  problem: {problem}")
    for lead_id, why in report.skips:
        typer.echo(f"  skipped lead {lead_id}: {why}")
    if _dead(report):
        typer.echo("  some actions failed for good: see `crmsync outbox list --status dead`")
        raise typer.Exit(EXIT_FAILURE)


def _dead(report: CycleReport) -> int:
    return report.dispatched.dead if report.dispatched else 0


def pull_summary(connection: str, report: PullReport) -> str:
    """One line: what a pull brought in."""
    skipped = sum(report.skipped.values())
    return (
        f"{connection}: pulled {report.owners} owners, {report.leads} leads, {report.activities} activities "
        f"in {report.pages} pages ({skipped} records skipped)"
    )


def cycle_summary(report: CycleReport) -> str:
    """One line per cycle: pulled, decided, enqueued, and the outbox outcomes."""
    pulled = report.pulled
    d = report.dispatched
    parts = [
        f"{report.connection}:",
        f"pulled {pulled.leads} leads, {pulled.activities} activities;" if pulled else "no pull;",
        f"decided {report.decided} leads ({report.skipped} skipped, {report.overflow} waiting for capacity);",
        f"{report.actions} actions, {report.enqueued} enqueued;",
    ]
    if d is not None:
        parts.append(f"applied {d.done}, retry {d.retry}, dead {d.dead}, premise changed {d.skipped};")
    parts.append(f"{report.seconds:.2f}s")
    return " ".join(parts)
