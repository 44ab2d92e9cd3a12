"""``crmsync outbox list|retry|drop``: look at the actions waiting for (or refused by) the CRM, and steer them.

``list`` shows rows by status with their last error; payloads are redacted (``crmsync.logging.scrub_mapping``).
``retry KEY`` (or ``--all-dead``) makes dead or retrying rows due now with their attempts reset; ``drop KEY
--reason TEXT`` skips a row for good, keeping the operator's reason. The transitions are the pure ones of
:mod:`crmsync.outbox.model`; a row in the wrong state is refused with exit code 1. These commands need only the
database, not a CRM connection.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from crmsync.cli.common import EXIT_CONFIG, EXIT_FAILURE
from crmsync.cli.shell import open_database
from crmsync.clock import SystemClock
from crmsync.logging import scrub_mapping
from crmsync.outbox.model import OutboxEntry, OutboxStatus, drop, retry_now
from crmsync.store.repositories import outbox as rows
from crmsync.store.repositories.outbox import OutboxItem
from crmsync.store.session import Database

app = typer.Typer(help="Inspect, retry or drop outbox rows (actions waiting for the CRM).", no_args_is_help=True)

RETRY_CHUNK = 500

_Transition = Callable[[OutboxEntry], OutboxEntry]


@app.command("list")
def list_rows(
    status: Annotated[
        OutboxStatus | None, typer.Option("--status", help="Only rows in this status (dead, retry, pending...).")
    ] = None,
    connection: Annotated[str | None, typer.Option("--connection", "-c", help="Only this connection.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many rows, oldest first.")] = 50,
    payload: Annotated[bool, typer.Option("--payload", help="Show each row's (redacted) payload.")] = False,
) -> None:
    """List outbox rows, oldest first, with their status, attempts, next attempt and last error."""
    with open_database() as db, db.transaction() as session:
        found = rows.find(session, status=status, connection=connection, limit=limit)
        counts = rows.count_by_status(session, connection=connection)
    out = Console(highlight=False)
    if found:
        out.print(_table(found, payload))
    summary = ", ".join(f"{n} {s.value}" for s, n in sorted(counts.items(), key=lambda kv: kv[0].value))
    out.print(f"{len(found)} rows shown; outbox: {summary or 'empty'}", markup=False)


def _table(found: list[OutboxItem], payload: bool) -> Table:
    table = Table()
    for column in ("key", "kind", "lead", "status", "attempts", "next attempt", "last error"):
        table.add_column(column, overflow="fold")
    if payload:
        table.add_column("payload", overflow="fold")
    for item in found:
        e = item.entry
        cells = [
            e.key,
            item.kind,
            item.lead_id or "-",
            e.status.value,
            str(e.attempts),
            _when(e.next_attempt_at) if not e.status.final else "-",
            e.last_error or "",
        ]
        if payload:
            cells.append(json.dumps(scrub_mapping(dict(item.payload)), sort_keys=True, default=str))
        table.add_row(*cells)
    return table


def _when(at: datetime | None) -> str:
    return at.isoformat(timespec="seconds") if at is not None else "now"


@app.command()
def retry(
    key: Annotated[str | None, typer.Argument(help="The row's idempotency key.")] = None,
    all_dead: Annotated[bool, typer.Option("--all-dead", help="Retry every dead row.")] = False,
) -> None:
    """Make a dead or retrying row due now (attempts reset); --all-dead does it for every dead row."""
    if (key is None) == (not all_dead):
        typer.echo("give a KEY or --all-dead (not both)", err=True)
        raise typer.Exit(EXIT_CONFIG)
    now = SystemClock().now()
    with open_database() as db:
        if key is not None:
            entry = _change(db, key, lambda e: retry_now(e, now), now)
            typer.echo(f"{entry.key}: {entry.status.value}, due now")
            return
        count = _retry_all_dead(db, now)
    typer.echo(f"{count} dead rows made due again")


def _retry_all_dead(db: Database, now: datetime) -> int:
    count = 0
    while True:
        with db.transaction() as session:
            dead = rows.find(session, status=OutboxStatus.DEAD, limit=RETRY_CHUNK)
            for item in dead:
                rows.save(session, retry_now(item.entry, now), now)
        count += len(dead)
        if len(dead) < RETRY_CHUNK:
            return count


@app.command("drop")
def drop_row(
    key: Annotated[str, typer.Argument(help="The row's idempotency key.")],
    reason: Annotated[str, typer.Option("--reason", help="Why the row is dropped (kept on the row).")],
) -> None:
    """Skip a row for good; the reason is kept as its last error."""
    if not reason.strip():
        typer.echo("--reason must say why", err=True)
        raise typer.Exit(EXIT_CONFIG)
    now = SystemClock().now()
    with open_database() as db:
        entry = _change(db, key, lambda e: drop(e, now, reason.strip()), now)
    typer.echo(f"{entry.key}: {entry.status.value} ({entry.last_error})")


def _change(db: Database, key: str, transition: _Transition, now: datetime) -> OutboxEntry:
    """Apply an operator transition to one row in one transaction; exit 1 if unknown or not allowed."""
    with db.transaction(immediate=True) as session:
        item = rows.get(session, key)
        if item is None:
            typer.echo(f"no outbox row with key {key}", err=True)
            raise typer.Exit(EXIT_FAILURE)
        try:
            entry = transition(item.entry)
        except ValueError as refused:
            typer.echo(str(refused), err=True)
            raise typer.Exit(EXIT_FAILURE) from refused
        rows.save(session, entry, now)
    return entry
