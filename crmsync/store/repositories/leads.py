"""Leads: bulk upserts of CRM snapshots, bulk saves of derived SLA state, and streaming reads.

A lead row holds two things written by different stages: the CRM snapshot (pull writes it with
:func:`upsert_leads`, never touching derived state) and the SLA state the engine derived (sync writes it with
:func:`save_lead_states`, never touching the snapshot). Reads stream: they yield as the database returns rows
(``yield_per``; a server-side cursor on PostgreSQL), so a million leads never sit in memory at once. Streams
must be consumed inside the transaction that opened them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, Select, bindparam, func, select, update
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


@dataclass(frozen=True, slots=True)
class LeadState:
    """What crmsync derived about a lead: qualification, SLA tier and clock, touches, replies, ownership."""

    mql: bool | None = None
    state: str | None = None
    sla_tier: str | None = None
    assigned_at: datetime | None = None
    first_touch_at: datetime | None = None
    touches_email: int = 0
    touches_call: int = 0
    touches_meeting: int = 0
    last_touch_at: datetime | None = None
    replied_at: datetime | None = None
    reply_count: int = 0
    reassignment_count: int = 0
    previous_owners: tuple[str, ...] = ()
    closed_at: datetime | None = None
    disposition: str | None = None
    due_at: datetime | None = None
    policy_hash: str | None = None


STATE_COLUMNS = tuple(item.name for item in fields(LeadState))


@dataclass(frozen=True, slots=True)
class StoredLead:
    """A lead as stored: the CRM snapshot and the derived state, plus when crmsync last wrote either."""

    lead: Lead
    state: LeadState
    updated_at: datetime


def normalise_email(email: str | None) -> str | None:
    """The form emails are stored and matched in: trimmed, lower-case; blank becomes None."""
    if email is None:
        return None
    cleaned = email.strip().lower()
    return cleaned or None


def upsert_leads(session: Session, leads: Iterable[Lead], now: datetime) -> int:
    """Insert or refresh the CRM snapshot of ``leads`` (derived state untouched); return how many were sent.

    New rows start with an empty derived state. ``fields`` must be JSON-serialisable.
    """
    blank = _state_values(LeadState())
    rows = (_snapshot_values(lead, now) | blank for lead in leads)
    return upsert(session, _LEADS, rows, keys=("connection", "lead_id"), update=(*SNAPSHOT_COLUMNS, "updated_at"))


def save_lead_states(session: Session, states: Iterable[tuple[LeadRef, LeadState]], now: datetime) -> int:
    """Write the derived state of existing leads by id (unknown ids are ignored); return how many were sent."""
    stmt = update(_LEADS).where(
        _LEADS.c.connection == bindparam("b_connection"), _LEADS.c.lead_id == bindparam("b_lead_id")
    )
    sent = 0
    for chunk in chunked(states, STREAM_BATCH):
        rows = [
            {"b_connection": ref.connection, "b_lead_id": ref.lead_id, "updated_at": now} | _state_values(state)
            for ref, state in chunk
        ]
        session.execute(stmt, rows)
        sent += len(rows)
    return sent


def stream_due_leads(
    session: Session, connection: str, now: datetime, *, batch: int = STREAM_BATCH
) -> Iterator[StoredLead]:
    """Leads of ``connection`` whose ``due_at`` is at or before ``now``, earliest first (ties by id)."""
    query = (
        select(_LEADS)
        .where(_LEADS.c.connection == connection, _LEADS.c.due_at <= now)
        .order_by(_LEADS.c.due_at, _LEADS.c.lead_id)
    )
    return _stream(session, query, batch)


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


def open_leads_by_owner(session: Session, connection: str) -> dict[str, int]:
    """How many leads each owner holds that are neither converted, deleted nor closed (``closed_at`` unset)."""
    query = (
        select(_LEADS.c.owner_id, func.count())
        .where(
            _LEADS.c.connection == connection,
            _LEADS.c.owner_id.is_not(None),
            _LEADS.c.converted.is_(False),
            _LEADS.c.deleted.is_(False),
            _LEADS.c.closed_at.is_(None),
        )
        .group_by(_LEADS.c.owner_id)
    )
    return {owner: count for owner, count in session.execute(query) if owner is not None}


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


def _state_values(state: LeadState) -> dict[str, Any]:
    values = asdict(state)
    values["previous_owners"] = list(state.previous_owners)
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
    values = {name: row[name] for name in STATE_COLUMNS}
    values["previous_owners"] = tuple(row["previous_owners"] or ())
    return StoredLead(lead=lead, state=LeadState(**values), updated_at=row["updated_at"])
