"""``crmsync capture --once``: read every configured mailbox and calendar once, store, queue and log touches.

For each connection (or ``--connection``), the sources listed under ``capture.sources`` in the settings file
are read from their cursors, matched touches are stored (their leads fall due at once) and queued as
LogActivity outbox rows, and the connection's outbox is dispatched (``--no-dispatch`` leaves that to the next
cycle). One line per connection says what happened. Exit 1 when a source failed; 2 for configuration errors.
The daemon runs the same :func:`crmsync.capture.job.run_capture` every ``capture_interval_s``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from crmsync.capture.job import check_sources, run_capture
from crmsync.capture.service import CaptureStats
from crmsync.cli.common import EXIT_CONFIG, EXIT_FAILURE
from crmsync.cli.shell import ConnectionOption, open_runtime


def capture(
    once: Annotated[bool, typer.Option("--once", help="Read every source once and exit.")] = False,
    connection: ConnectionOption = None,
    dispatch: Annotated[
        bool, typer.Option("--dispatch/--no-dispatch", help="Log the queued touches in the CRM now.")
    ] = True,
) -> None:
    """Read every configured mailbox and calendar once; store, queue and (by default) log what matched."""
    if not once:
        typer.echo("crmsync capture needs --once (the daemon, `crmsync run`, captures on a schedule)", err=True)
        raise typer.Exit(EXIT_CONFIG)
    failed = False
    with open_runtime() as runtime:
        check_sources(runtime.settings.capture, runtime.connection_names)
        names = [runtime.connection(connection).name] if connection else runtime.connection_names
        for name in names:
            stats = run_capture(runtime, name, dispatch=dispatch)
            typer.echo(capture_summary(name, stats))
            failed = failed or bool(stats.failed)
    if failed:
        raise typer.Exit(EXIT_FAILURE)


def capture_summary(connection: str, stats: CaptureStats) -> str:
    """One line: sources read, items read and matched, new activities, logged, and skips by reason."""
    skipped = ", ".join(f"{reason} {count}" for reason, count in sorted(stats.skipped.items())) or "none"
    failed = f" ({len(stats.failed)} failed: {', '.join(stats.failed)})" if stats.failed else ""
    return (
        f"{connection}: {stats.sources} sources read{failed}; {stats.read} items, {stats.matched} touches matched, "
        f"{stats.stored} new; logged {stats.logged}, not yet {stats.not_logged}; skipped: {skipped}"
    )
