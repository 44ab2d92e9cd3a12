"""``crmsync plan``: what one cycle would do now, and why, without doing it.

It pulls into the local snapshot (pull marks changed leads due, which the real cycle then decides; ``--no-pull``
skips that), decides every due lead with the engine the daemon runs, and prints the would-be actions: lead,
kind, target owner, reason and rule. Nothing is written to the outbox, the leads' derived state or the CRM.
``--json`` prints one JSON document for machines instead of the table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, assert_never

import typer
from rich.console import Console
from rich.table import Table

from crmsync.cli.shell import ConnectionOption, open_runtime, owner_names, show_owner
from crmsync.domain import (
    Action,
    Assign,
    CreateTask,
    Flag,
    Hide,
    LogActivity,
    Reassign,
    Recycle,
    Reopen,
    SetDisposition,
    moves_owner,
)
from crmsync.engine import Decision


@dataclass(frozen=True, slots=True)
class PlanRow:
    """One would-be action as ``plan`` shows it."""

    lead_id: str
    kind: str
    key: str
    owner_id: str | None
    reason: str
    rule: str | None

    def as_json(self, names: Mapping[str, str]) -> dict[str, Any]:
        """A JSON-ready dict, with the target owner's readable name when known."""
        return {
            "lead_id": self.lead_id,
            "kind": self.kind,
            "key": self.key,
            "owner_id": self.owner_id,
            "owner": names.get(self.owner_id) if self.owner_id else None,
            "reason": self.reason,
            "rule": self.rule,
        }


def plan(
    connection: ConnectionOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document instead of the table.")] = False,
    no_pull: Annotated[bool, typer.Option("--no-pull", help="Decide on the local snapshot; do not pull.")] = False,
) -> None:
    """Show what one cycle would do now (actions with their reasons), without writing anything."""
    with open_runtime() as runtime:
        name = runtime.connection(connection).name
        cycle = runtime.cycle(name)
        decisions = cycle.plan(do_pull=not no_pull)
        names = owner_names(runtime, name)
        now = runtime.clock.now()
    rows = plan_rows(decisions)
    if as_json:
        typer.echo(json.dumps(plan_document(name, now.isoformat(), decisions, rows, names), indent=2))
        return
    print_plan(name, decisions, rows, names, Console())


def plan_rows(decisions: Sequence[Decision]) -> list[PlanRow]:
    """Every planned action of ``decisions``, in decision order."""
    rows: list[PlanRow] = []
    for decision in decisions:
        rule = next((r.rule for r in decision.assignments if r.rule), None) or _last_rule(decision)
        for planned in decision.actions:
            action = planned.action
            rows.append(PlanRow(decision.lead.lead_id, planned.kind, planned.key, target(action), reason(action), rule))
    return rows


def _last_rule(decision: Decision) -> str | None:
    rules = decision.explanation.rules
    return rules[-1] if rules else None


def target(action: Action) -> str | None:
    """The owner an action moves the lead to, or the owner of the task it creates."""
    if isinstance(action, CreateTask):
        return action.owner_id
    return moves_owner(action)


def reason(action: Action) -> str:
    """The words an action carries: why it moves the lead, the status it writes, the task's subject."""
    match action:
        case Assign(reason=why) | Reassign(reason=why) | Recycle(reason=why) | SetDisposition(reason=why):
            return why
        case Hide(status_text=text):
            return text
        case Reopen(message=text) | Flag(message=text):
            return text
        case CreateTask(subject=subject):
            return subject
        case LogActivity(subject=subject):
            return subject
        case _:
            assert_never(action)


def plan_document(
    connection: str, now: str, decisions: Sequence[Decision], rows: Sequence[PlanRow], names: Mapping[str, str]
) -> dict[str, Any]:
    """The ``--json`` document: the actions, the skipped leads with their reasons, and the counts."""
    skipped = [{"lead_id": d.lead.lead_id, "reason": d.skipped} for d in decisions if d.skipped is not None]
    problems = list(dict.fromkeys(p for d in decisions for p in d.problems))
    return {
        "connection": connection,
        "at": now,
        "decided": len(decisions),
        "actions": [row.as_json(names) for row in rows],
        "skipped": skipped,
        "overflow": sum(1 for d in decisions if d.overflow),
        "problems": problems,
    }


def print_plan(
    connection: str, decisions: Sequence[Decision], rows: Sequence[PlanRow], names: Mapping[str, str], out: Console
) -> None:
    """The human form: a table of would-be actions, then the skipped leads and a summary line."""
    if rows:
        table = Table(title=f"crmsync plan: {connection}", show_lines=False)
        for column in ("lead", "kind", "target owner", "reason", "rule"):
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(row.lead_id, row.kind, show_owner(row.owner_id, names), row.reason, row.rule or "-")
        out.print(table)
    skipped = [d for d in decisions if d.skipped is not None]
    for d in skipped:
        out.print(f"skipped {d.lead.lead_id}: {d.skipped}", markup=False, highlight=False)
    problems = list(dict.fromkeys(p for d in decisions for p in d.problems))
    for problem in problems:
        out.print(f"problem: {problem}", markup=False, highlight=False)
    overflow = sum(1 for d in decisions if d.overflow)
    out.print(
        f"{connection}: {len(decisions)} leads decided, {len(rows)} actions, {len(skipped)} skipped, "
        f"{overflow} waiting for capacity (nothing was written)",
        markup=False,
        highlight=False,
    )
