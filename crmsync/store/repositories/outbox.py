"""The outbox table: idempotent enqueue, leasing batches to dispatchers, and saving their state changes.

State transitions are decided by the pure :mod:`crmsync.outbox.model`; this module only moves the resulting
:class:`~crmsync.outbox.model.OutboxEntry` values in and out. Leasing is atomic on both databases: one
``UPDATE ... WHERE id IN (SELECT ... LIMIT n)`` that, on PostgreSQL, locks the chosen rows with
``FOR UPDATE SKIP LOCKED`` (concurrent dispatchers take disjoint rows without waiting) and, on SQLite, runs
under the database write lock (use ``Database.transaction(immediate=True)``). Saves are fenced by the lease
holder, so a dispatcher whose lease expired and was taken over cannot overwrite the new holder's work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, RowMapping, and_, func, or_, select, update
from sqlalchemy.orm import Session

from crmsync.outbox.model import OutboxEntry, OutboxStatus
from crmsync.store.repositories._bulk import chunked, dialect_name, insert_for, max_rows
from crmsync.store.tables import UNFINISHED_OUTBOX, Base

_OUTBOX = Base.metadata.tables["outbox"]


@dataclass(frozen=True, slots=True)
class NewOutboxRow:
    """An action to enqueue: its idempotency ``key``, ``kind`` and JSON ``payload`` (see outbox.codec)."""

    connection: str
    key: str
    kind: str
    lead_id: str | None
    payload: Mapping[str, Any]
    priority: int = 100


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A stored outbox row: what to do (kind, payload) and where it stands (``entry``)."""

    id: int
    connection: str
    kind: str
    lead_id: str | None
    payload: Mapping[str, Any]
    priority: int
    entry: OutboxEntry
    created_at: datetime
    updated_at: datetime


def enqueue(session: Session, row: NewOutboxRow, now: datetime) -> bool:
    """Add ``row`` as pending unless its key is already there; True if it was added."""
    return bool(enqueue_many(session, [row], now))


def enqueue_many(session: Session, rows: Iterable[NewOutboxRow], now: datetime) -> set[str]:
    """Add every row whose key is new (duplicates are ignored, not updated); return the keys added."""
    added: set[str] = set()
    for chunk in chunked(rows, max_rows(session, len(_OUTBOX.c))):
        stmt = insert_for(session, _OUTBOX).values([_new_values(row, now) for row in chunk])
        stmt = stmt.on_conflict_do_nothing(index_elements=["idempotency_key"])
        added.update(session.execute(stmt.returning(_OUTBOX.c.idempotency_key)).scalars())
    return added


def leasable(now: datetime) -> ColumnElement[bool]:
    """Rows a dispatcher may take at ``now``: pending, retries that fell due, leases that expired."""
    status, due, expires = _OUTBOX.c.status, _OUTBOX.c.next_attempt_at, _OUTBOX.c.lease_expires_at
    return or_(
        status == OutboxStatus.PENDING.value,
        and_(status == OutboxStatus.RETRY.value, or_(due.is_(None), due <= now)),
        and_(status == OutboxStatus.LEASED.value, expires <= now),
    )


def lease_batch(
    session: Session, holder: str, now: datetime, ttl: timedelta, limit: int, *, connection: str | None = None
) -> list[OutboxItem]:
    """Lease up to ``limit`` leasable rows to ``holder`` until ``now + ttl``, lowest priority number first.

    Two callers never get the same row. The lease holds once the transaction commits; commit promptly.
    """
    chosen = select(_OUTBOX.c.id).where(UNFINISHED_OUTBOX, leasable(now))  # the partial index's own term
    if connection is not None:
        chosen = chosen.where(_OUTBOX.c.connection == connection)
    chosen = chosen.order_by(_OUTBOX.c.priority, _OUTBOX.c.id).limit(limit)
    if dialect_name(session) == "postgresql":
        chosen = chosen.with_for_update(skip_locked=True)
    stmt = (
        update(_OUTBOX)
        .where(_OUTBOX.c.id.in_(chosen.scalar_subquery()))
        .values(
            status=OutboxStatus.LEASED.value,
            lease_holder=holder,
            lease_expires_at=now + ttl,
            updated_at=now,
        )
        .returning(*_OUTBOX.c)
    )
    items = [_to_item(row) for row in session.execute(stmt).mappings()]
    return sorted(items, key=lambda item: (item.priority, item.id))


def save_leased(session: Session, entries: Iterable[OutboxEntry], holder: str, now: datetime) -> set[str]:
    """Write the new state of rows ``holder`` still leases; return the keys written (others lost their lease)."""
    written: set[str] = set()
    for entry in entries:
        fenced = and_(
            _OUTBOX.c.idempotency_key == entry.key,
            _OUTBOX.c.status == OutboxStatus.LEASED.value,
            _OUTBOX.c.lease_holder == holder,
        )
        if _write(session, entry, now, fenced):
            written.add(entry.key)
    return written


def save(session: Session, entry: OutboxEntry, now: datetime) -> bool:
    """Write ``entry`` whoever holds the row (operator actions: retry, drop); False if the key is unknown."""
    return _write(session, entry, now, _OUTBOX.c.idempotency_key == entry.key)


def extend_leases(session: Session, keys: Sequence[str], holder: str, now: datetime, ttl: timedelta) -> int:
    """Push the lease expiry of ``holder``'s leased rows among ``keys`` to ``now + ttl``; return how many."""
    stmt = (
        update(_OUTBOX)
        .where(
            _OUTBOX.c.idempotency_key.in_(keys),
            _OUTBOX.c.status == OutboxStatus.LEASED.value,
            _OUTBOX.c.lease_holder == holder,
        )
        .values(lease_expires_at=now + ttl, updated_at=now)
    )
    result: CursorResult[Any] = session.execute(stmt)  # type: ignore[assignment]  # DML gives a CursorResult
    return int(result.rowcount)


def get(session: Session, key: str) -> OutboxItem | None:
    """The row with idempotency key ``key``, if any."""
    row = session.execute(select(_OUTBOX).where(_OUTBOX.c.idempotency_key == key)).mappings().first()
    return None if row is None else _to_item(row)


def statuses(session: Session, keys: Iterable[str]) -> dict[str, OutboxStatus]:
    """The status of each of ``keys`` that exists (one query per chunk of keys)."""
    found: dict[str, OutboxStatus] = {}
    for chunk in chunked(dict.fromkeys(keys), max_rows(session, 1)):
        query = select(_OUTBOX.c.idempotency_key, _OUTBOX.c.status).where(_OUTBOX.c.idempotency_key.in_(chunk))
        found.update({key: OutboxStatus(status) for key, status in session.execute(query)})
    return found


def find(
    session: Session, *, status: OutboxStatus | None = None, connection: str | None = None, limit: int = 100
) -> list[OutboxItem]:
    """Rows filtered by status and connection, oldest first, at most ``limit`` (for operators' listings)."""
    query = select(_OUTBOX)
    if status is not None:
        query = query.where(_OUTBOX.c.status == status.value)
    if connection is not None:
        query = query.where(_OUTBOX.c.connection == connection)
    rows = session.execute(query.order_by(_OUTBOX.c.id).limit(limit)).mappings()
    return [_to_item(row) for row in rows]


def count_by_status(session: Session, *, connection: str | None = None) -> dict[OutboxStatus, int]:
    """How many rows are in each status (statuses with no row are absent)."""
    query = select(_OUTBOX.c.status, func.count()).group_by(_OUTBOX.c.status)
    if connection is not None:
        query = query.where(_OUTBOX.c.connection == connection)
    return {OutboxStatus(status): count for status, count in session.execute(query)}


def _write(session: Session, entry: OutboxEntry, now: datetime, where: ColumnElement[bool]) -> bool:
    stmt = (
        update(_OUTBOX)
        .where(where)
        .values(
            status=entry.status.value,
            attempts=entry.attempts,
            next_attempt_at=entry.next_attempt_at,
            lease_holder=entry.lease_holder,
            lease_expires_at=entry.lease_expires_at,
            last_error=entry.last_error,
            done_at=entry.done_at,
            updated_at=now,
        )
    )
    result: CursorResult[Any] = session.execute(stmt)  # type: ignore[assignment]  # DML gives a CursorResult
    return bool(result.rowcount)


def _new_values(row: NewOutboxRow, now: datetime) -> dict[str, Any]:
    return {
        "connection": row.connection,
        "idempotency_key": row.key,
        "kind": row.kind,
        "lead_id": row.lead_id,
        "payload": dict(row.payload),
        "priority": row.priority,
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "lease_holder": None,
        "lease_expires_at": None,
        "last_error": None,
        "created_at": now,
        "updated_at": now,
        "done_at": None,
    }


def _to_item(row: RowMapping) -> OutboxItem:
    entry = OutboxEntry(
        key=row["idempotency_key"],
        status=OutboxStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        lease_holder=row["lease_holder"],
        lease_expires_at=row["lease_expires_at"],
        last_error=row["last_error"],
        done_at=row["done_at"],
    )
    return OutboxItem(
        id=row["id"],
        connection=row["connection"],
        kind=row["kind"],
        lead_id=row["lead_id"],
        payload=row["payload"],
        priority=row["priority"],
        entry=entry,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
