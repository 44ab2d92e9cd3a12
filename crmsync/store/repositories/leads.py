"""Leads: bulk upserts of CRM snapshots, bulk saves of derived SLA state, and streaming reads.

A lead row holds two things written by different stages: the CRM snapshot (pull writes it with
:func:`upsert_leads`, never touching derived state) and the SLA state the engine derived (sync writes it with
:func:`save_lead_states`, never touching the snapshot): one column per :data:`STATE_COLUMNS` name, the rest
as JSON ``extras``. The store does not interpret that state; the engine's ``LeadState`` converts to and
from it. Reads stream: they yield as the database returns rows (``yield_per``; a server-side cursor on
PostgreSQL), so a million leads never sit in memory at once. Streams must be consumed inside the
transaction that opened them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, RowMapping, Select, bindparam, func, select, update
from sqlalchemy.orm import Session

from crmsync.domain import Lead, LeadRef
from crmsync.store.repositories._bulk import chunked, max_rows, upsert
from crmsync.store.tables import Base

STREAM_BATCH = 1_000
_LEADS = Base.metadata.tables["leads"]
SNAPSHOT_COLUMNS = (
    "owner_id",
    "email",
    "status",
    "created_at",
    "modified_at",
    "converted",
    "deleted",
    "fields",
)


STATE_COLUMNS = (
    "mql",
    "state",
    "sla_tier",
    "assigned_at",
    "first_touch_at",
    "touches_email",
    "touches_call",
    "touches_meeting",
    "last_touch_at",
    "replied_at",
    "reply_count",
    "reassignment_count",
    "previous_owners",
    "closed_at",
    "disposition",
    "due_at",
    "policy_hash",
)
_ZERO_COUNTS = ("touches_email", "touches_call", "touches_meeting", "reply_count", "reassignment_count")


def blank_state() -> dict[str, Any]:
    """The derived state of a lead crmsync has not decided on yet: no dates, zero counts, no owners."""
    state: dict[str, Any] = dict.fromkeys(STATE_COLUMNS)
    state.update(dict.fromkeys(_ZERO_COUNTS, 0), previous_owners=[])
    return state


@dataclass(frozen=True, slots=True)
class StateUpdate:
    """New derived state for one lead: a value for every :data:`STATE_COLUMNS` name, plus JSON ``extras``.

    It is what ``crmsync.engine.state.LeadState.columns()`` and ``.extras()`` return.
    """

    ref: LeadRef
    columns: Mapping[str, Any]
    extras: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class StoredLead:
    """A lead as stored: the CRM snapshot, the derived state (column values and extras), the last write time.

    ``state`` and ``extras`` are what ``crmsync.engine.state.LeadState.from_stored`` takes.
    """

    lead: Lead
    state: Mapping[str, Any]
    extras: Mapping[str, Any]
    updated_at: datetime


def normalise_email(email: str | None) -> str | None:
    """The form emails are stored and matched in: trimmed, lower-case; blank becomes None."""
    if email is None:
        return None
    cleaned = email.strip().lower()
    return cleaned or None


def upsert_leads(session: Session, leads: Iterable[Lead], now: datetime) -> int:
    """Insert or refresh the CRM snapshot of ``leads`` (derived state untouched); return how many were sent.

    New rows start with :func:`blank_state` and no extras. ``fields`` must be JSON-serialisable.
    """
    rows = (_snapshot_values(lead, now) | blank_state() | {"state_extras": None} for lead in leads)
    return upsert(session, _LEADS, rows, keys=("connection", "lead_id"), update=(*SNAPSHOT_COLUMNS, "updated_at"))


def save_lead_states(session: Session, updates: Iterable[StateUpdate], now: datetime) -> int:
    """Write the derived state of existing leads by id (unknown ids are ignored); return how many were sent.

    Raises ValueError when an update's ``columns`` are not exactly :data:`STATE_COLUMNS`.
    """
    stmt = update(_LEADS).where(
        _LEADS.c.connection == bindparam("b_connection"), _LEADS.c.lead_id == bindparam("b_lead_id")
    )
    sent = 0
    for chunk in chunked(updates, STREAM_BATCH):
        session.execute(stmt, [_state_values(item, now) for item in chunk])
        sent += len(chunk)
    return sent


def due_lead_ids(session: Session, connection: str, now: datetime) -> list[str]:
    """Ids of the leads of ``connection`` whose ``due_at`` is at or before ``now``, earliest first (ties by id).

    Only the ids: the cycle reads the rows it decides chunk by chunk, so nothing is read twice.
    """
    query = (
        select(_LEADS.c.lead_id)
        .where(_LEADS.c.connection == connection, _LEADS.c.due_at <= now)
        .order_by(_LEADS.c.due_at, _LEADS.c.lead_id)
    )
    return list(session.execute(query).scalars())


def stream_leads(session: Session, connection: str, *, batch: int = STREAM_BATCH) -> Iterator[StoredLead]:
    """Every lead of ``connection``, by id."""
    query = select(_LEADS).where(_LEADS.c.connection == connection).order_by(_LEADS.c.lead_id)
    return _stream(session, query, batch)


def leads_by_ids(session: Session, connection: str, lead_ids: Iterable[str]) -> Iterator[StoredLead]:
    """The stored leads among ``lead_ids`` (missing ones are absent), read in chunks of ids."""
    for chunk in chunked(dict.fromkeys(lead_ids), max_rows(session, 1)):
        query = select(_LEADS).where(_LEADS.c.connection == connection, _LEADS.c.lead_id.in_(chunk))
        yield from _stream(session, query.order_by(_LEADS.c.lead_id), STREAM_BATCH)


def leads_by_emails(session: Session, connection: str, emails: Iterable[str]) -> Iterator[StoredLead]:
    """Leads whose normalised email is one of ``emails`` (compared normalised), for capture matching."""
    wanted = dict.fromkeys(e for e in (normalise_email(raw) for raw in emails) if e is not None)
    for chunk in chunked(wanted, max_rows(session, 1)):
        query = select(_LEADS).where(_LEADS.c.connection == connection, _LEADS.c.email.in_(chunk))
        yield from _stream(session, query.order_by(_LEADS.c.lead_id), STREAM_BATCH)


def mark_due(session: Session, connection: str, lead_ids: Iterable[str], now: datetime) -> int:
    """Make ``lead_ids`` due at ``now`` (unless due earlier already), so the next cycle decides them.

    Pull calls it in the transaction that stores the changed rows: a change is never lost between the
    commit of the pull and the decisions, whatever crashes in between. Returns how many rows changed.
    """
    changed = 0
    for chunk in chunked(dict.fromkeys(lead_ids), max_rows(session, 1)):
        stmt = (
            update(_LEADS)
            .where(
                _LEADS.c.connection == connection,
                _LEADS.c.lead_id.in_(chunk),
                (_LEADS.c.due_at.is_(None)) | (_LEADS.c.due_at > now),
            )
            .values(due_at=now)
        )
        result: CursorResult[Any] = session.execute(stmt)  # type: ignore[assignment]  # DML gives a CursorResult
        changed += int(result.rowcount)
    return changed


def open_leads_of(session: Session, connection: str, owner_ids: Iterable[str]) -> dict[str, int]:
    """Open leads (not converted, deleted or closed) of each of ``owner_ids``; owners without any are absent.

    Reads through the (connection, owner_id) index, so it costs what those owners hold, never the org's size
    (holding queues with a million parked leads are not asked about).
    """
    counts: dict[str, int] = {}
    for chunk in chunked(dict.fromkeys(owner_ids), max_rows(session, 1)):
        query = (
            select(_LEADS.c.owner_id, func.count())
            .where(
                _LEADS.c.connection == connection,
                _LEADS.c.owner_id.in_(chunk),
                _LEADS.c.converted.is_(False),
                _LEADS.c.deleted.is_(False),
                _LEADS.c.closed_at.is_(None),
            )
            .group_by(_LEADS.c.owner_id)
        )
        counts.update({owner: count for owner, count in session.execute(query) if owner is not None})
    return counts


def _stream(session: Session, query: Select[Any], batch: int) -> Iterator[StoredLead]:
    result = session.execute(query.execution_options(yield_per=batch))
    for row in result.mappings():
        yield _to_stored(row)


def _snapshot_values(lead: Lead, now: datetime) -> dict[str, Any]:
    return {
        "connection": lead.ref.connection,
        "lead_id": lead.ref.lead_id,
        "owner_id": lead.owner_id,
        "email": normalise_email(lead.email),
        "status": lead.status,
        "created_at": lead.created_at,
        "modified_at": lead.modified_at,
        "converted": lead.converted,
        "deleted": lead.deleted,
        "fields": dict(lead.fields),
        "updated_at": now,
    }


def _state_values(item: StateUpdate, now: datetime) -> dict[str, Any]:
    if set(item.columns) != set(STATE_COLUMNS):
        unexpected = sorted(set(item.columns) ^ set(STATE_COLUMNS))
        raise ValueError(f"lead {item.ref}: derived state columns differ from the table's: {unexpected}")
    values = {"b_connection": item.ref.connection, "b_lead_id": item.ref.lead_id, "updated_at": now}
    values.update(item.columns)
    values["previous_owners"] = list(item.columns["previous_owners"] or ())
    values["state_extras"] = dict(item.extras)
    return values


def _to_stored(row: RowMapping) -> StoredLead:
    lead = Lead(
        ref=LeadRef(row["connection"], row["lead_id"]),
        owner_id=row["owner_id"],
        email=row["email"],
        status=row["status"],
        created_at=row["created_at"],
        modified_at=row["modified_at"],
        fields=row["fields"] or {},
        converted=bool(row["converted"]),
        deleted=bool(row["deleted"]),
    )
    state = {name: row[name] for name in STATE_COLUMNS}
    state["previous_owners"] = list(row["previous_owners"] or ())
    return StoredLead(lead, state, row["state_extras"] or {}, row["updated_at"])
