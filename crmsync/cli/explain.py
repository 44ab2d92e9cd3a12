"""``crmsync explain LEAD_ID``: why a lead is where it is, and what happens next.

Prints the lead's state as crmsync derived it, the decision a cycle would take now (matched rules, SLA clock
with deadlines in the owner's local time, candidates, next event), the history of owners, its touches, the
audit trail of what crmsync changed, and the outbox rows still waiting. Reads the local store (``--pull``
refreshes it first); writes no decision, outbox row or CRM change.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from crmsync.cli.common import EXIT_FAILURE
from crmsync.cli.shell import ConnectionOption, open_runtime, owner_names, show_owner
from crmsync.engine import Decision, render
from crmsync.engine.explain import local_time
from crmsync.sync.inspect import LeadRecord, lead_record
from crmsync.sync.pull import pull


def explain(
    lead_id: Annotated[str, typer.Argument(help="The lead's CRM id.")],
    connection: ConnectionOption = None,
    refresh: Annotated[bool, typer.Option("--pull", help="Pull changes from the CRM first.")] = False,
) -> None:
    """Explain one lead: state, SLA clock, matched rules, owners, touches, audit trail and what happens next."""
    with open_runtime() as runtime:
        name = runtime.connection(connection).name
        if refresh:
            pull(runtime.db, runtime.port(name), runtime.clock)
        record = lead_record(runtime.db, name, lead_id)
        if record is None:
            typer.echo(
                f"lead {lead_id} is not in the local store of {name} (run `crmsync sync --once` first)", err=True
            )
            raise typer.Exit(EXIT_FAILURE)
        decision = runtime.cycle(name).decide_lead(lead_id)
        names = owner_names(runtime, name)
        now = runtime.clock.now()
    print_explanation(record, decision, names, now, Console(highlight=False))


def print_explanation(
    record: LeadRecord, decision: Decision | None, names: Mapping[str, str], now: datetime, out: Console
) -> None:
    """The whole explanation, section by section."""
    lead, state = record.stored.lead, record.stored.state
    tz = (decision.explanation.timezone if decision else None) or "UTC"
    out.print(f"lead {lead.ref}  owner {show_owner(lead.owner_id, names)}  status {lead.status or '-'}", markup=False)
    flags = [w for w, on in (("converted", lead.converted), ("deleted", lead.deleted)) if on]
    stored_due = state.get("due_at")
    out.print(
        f"  stored state: {state.get('state') or 'new'}; reassignments {state.get('reassignment_count') or 0}; "
        f"next decision {local_time(stored_due, tz) if stored_due else 'only on change'}"
        + (f"; {', '.join(flags)}" if flags else ""),
        markup=False,
    )
    if decision is not None:
        out.print("decision now:", markup=False)
        for line in render(decision.explanation, now):
            out.print(line, markup=False)
        for planned in decision.actions:
            out.print(f"  would do: {planned.kind} ({planned.key})", markup=False)
        if decision.skipped:
            out.print(f"  skipped: {decision.skipped}", markup=False)
    _owners(record, names, tz, out)
    _touches(record, names, tz, out)
    _audit(record, tz, out)
    _queued(record, tz, out)


def _owners(record: LeadRecord, names: Mapping[str, str], tz: str, out: Console) -> None:
    if not record.assignments:
        out.print("owners: no assignment recorded by crmsync", markup=False)
        return
    table = Table(title="owners", title_justify="left")
    for column in ("when", "kind", "to", "from", "rule", "reason"):
        table.add_column(column, overflow="fold")
    for a in record.assignments:
        table.add_row(
            local_time(a.at, tz),
            a.kind.value,
            show_owner(a.owner_id, names),
            show_owner(a.previous_owner_id, names),
            a.rule or "-",
            a.reason or "-",
        )
    out.print(table)


def _touches(record: LeadRecord, names: Mapping[str, str], tz: str, out: Console) -> None:
    if not record.activities:
        out.print("touches: none", markup=False)
        return
    table = Table(title="touches and replies", title_justify="left")
    for column in ("when", "channel", "direction", "by", "source", "automated"):
        table.add_column(column, overflow="fold")
    for a in record.activities:
        table.add_row(
            local_time(a.occurred_at, tz),
            a.channel.value,
            a.direction.value,
            show_owner(a.owner_id, names),
            a.source.value,
            "yes" if a.automated else "",
        )
    out.print(table)


def _audit(record: LeadRecord, tz: str, out: Console) -> None:
    if not record.audit:
        out.print("audit: crmsync has changed nothing on this lead", markup=False)
        return
    table = Table(title="audit trail", title_justify="left")
    for column in ("when", "action", "before", "after", "rule", "policy"):
        table.add_column(column, overflow="fold")
    for e in record.audit:
        table.add_row(
            local_time(e.at, tz),
            e.action,
            _pairs(e.before),
            _pairs(e.after),
            e.rule or "-",
            e.policy_hash or "-",
        )
    out.print(table)


def _queued(record: LeadRecord, tz: str, out: Console) -> None:
    open_rows = [item for item in record.outbox if not item.entry.status.final]
    closed = len(record.outbox) - len(open_rows)
    if not open_rows:
        out.print(f"outbox: nothing waiting ({closed} finished rows)", markup=False)
        return
    for item in open_rows:
        entry = item.entry
        when = local_time(entry.next_attempt_at, tz) if entry.next_attempt_at else "now"
        error = f"; last error: {entry.last_error}" if entry.last_error else ""
        out.print(
            f"outbox: {item.kind} {entry.status.value}, attempt {entry.attempts + 1} at {when}{error} ({entry.key})",
            markup=False,
        )


def _pairs(values: Mapping[str, object] | None) -> str:
    if not values:
        return "-"
    return ", ".join(f"{k}={v}" for k, v in values.items())
