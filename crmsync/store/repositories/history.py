"""Append-only history: the assignment log (who got a lead, by which rule and why) and the audit trail."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from crmsync.store.repositories._bulk import chunked
from crmsync.store.tables import AssignmentKind, Base

_ASSIGNMENTS = Base.metadata.tables["assignments"]
_AUDIT = Base.metadata.tables["audit"]
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class AssignmentEntry:
    """One ownership event of a lead; ``candidates`` lists each rep considered and why one was skipped."""

    connection: str
    lead_id: str
    kind: AssignmentKind
    owner_id: str | None
    previous_owner_id: str | None
    at: datetime
    rule: str | None = None
    method: str | None = None
    reason: str | None = None
    candidates: Sequence[Mapping[str, Any]] = ()
    policy_hash: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One change crmsync made (or decided): the values before and after, the rule and the outbox key."""

    connection: str
    lead_id: str | None
    action: str
    at: datetime
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    rule: str | None = None
    policy_hash: str | None = None
    outbox_key: str | None = None


def append_assignments(session: Session, entries: Iterable[AssignmentEntry]) -> int:
    """Append ``entries`` to the assignment history; return how many were written."""
    written = 0
    for chunk in chunked(entries, _CHUNK):
        rows = [_assignment_values(entry) for entry in chunk]
        session.execute(insert(_ASSIGNMENTS), rows)
        written += len(rows)
    return written


def assignment_history(session: Session, connection: str, lead_id: str) -> list[AssignmentEntry]:
    """Every ownership event of one lead, oldest first."""
    query = (
        select(_ASSIGNMENTS)
        .where(_ASSIGNMENTS.c.connection == connection, _ASSIGNMENTS.c.lead_id == lead_id)
        .order_by(_ASSIGNMENTS.c.at, _ASSIGNMENTS.c.id)
    )
    return [
        AssignmentEntry(
            connection=row["connection"],
            lead_id=row["lead_id"],
            kind=AssignmentKind(row["kind"]),
            owner_id=row["owner_id"],
            previous_owner_id=row["previous_owner_id"],
            at=row["at"],
            rule=row["rule"],
            method=row["method"],
            reason=row["reason"],
            candidates=tuple(row["candidates"] or ()),
            policy_hash=row["policy_hash"],
        )
        for row in session.execute(query).mappings()
    ]


def assignments_since(
    session: Session, connection: str, since: datetime, kinds: Iterable[AssignmentKind]
) -> dict[str, int]:
    """How many assignments of ``kinds`` each owner received at or after ``since`` (today's intake)."""
    query = (
        select(_ASSIGNMENTS.c.owner_id, func.count())
        .where(
            _ASSIGNMENTS.c.connection == connection,
            _ASSIGNMENTS.c.at >= since,
            _ASSIGNMENTS.c.kind.in_([k.value for k in kinds]),
            _ASSIGNMENTS.c.owner_id.is_not(None),
        )
        .group_by(_ASSIGNMENTS.c.owner_id)
    )
    return {owner: count for owner, count in session.execute(query) if owner is not None}


def append_audit(session: Session, entries: Iterable[AuditEntry]) -> int:
    """Append ``entries`` to the audit trail; return how many were written."""
    written = 0
    for chunk in chunked(entries, _CHUNK):
        rows = [_audit_values(entry) for entry in chunk]
        session.execute(insert(_AUDIT), rows)
        written += len(rows)
    return written


def audit_trail(session: Session, connection: str, lead_id: str) -> list[AuditEntry]:
    """Every audit entry of one lead, oldest first."""
    query = (
        select(_AUDIT)
        .where(_AUDIT.c.connection == connection, _AUDIT.c.lead_id == lead_id)
        .order_by(_AUDIT.c.at, _AUDIT.c.id)
    )
    return [
        AuditEntry(
            connection=row["connection"],
            lead_id=row["lead_id"],
            action=row["action"],
            at=row["at"],
            before=row["before"],
            after=row["after"],
            rule=row["rule"],
            policy_hash=row["policy_hash"],
            outbox_key=row["outbox_key"],
        )
        for row in session.execute(query).mappings()
    ]


def _assignment_values(entry: AssignmentEntry) -> dict[str, Any]:
    values = asdict(entry)
    values["kind"] = entry.kind.value
    values["candidates"] = [dict(candidate) for candidate in entry.candidates]
    return values


def _audit_values(entry: AuditEntry) -> dict[str, Any]:
    values = asdict(entry)
    values["before"] = None if entry.before is None else dict(entry.before)
    values["after"] = None if entry.after is None else dict(entry.after)
    return values
