"""Small keyed state: named leases, pull watermarks, capture cursors and round-robin pointers.

Leases are atomic on both databases: acquiring is one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` the
lease is free, expired, or already ours, so two replicas racing for it cannot both win. Watermarks are
written with the session that wrote the pulled rows, so both commit together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, delete, or_, select, update
from sqlalchemy.orm import Session

from crmsync.capture.cursors import Cursor
from crmsync.clock import Clock
from crmsync.store.repositories._bulk import insert_for, upsert
from crmsync.store.session import Database
from crmsync.store.tables import Base

_LEASES = Base.metadata.tables["leases"]
_WATERMARKS = Base.metadata.tables["watermarks"]
_CURSORS = Base.metadata.tables["capture_cursors"]
_POINTERS = Base.metadata.tables["routing_pointers"]


@dataclass(frozen=True, slots=True)
class Watermark:
    """How far an incremental pull has committed: a modification time and an optional keyset cursor."""

    value: datetime | None
    cursor: str | None
    updated_at: datetime


def acquire_lease(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease ``name`` for ``holder`` until ``now + ttl``; False if someone else holds it.

    Succeeds when nobody holds it, its holder let it expire (``expires_at <= now``), or ``holder`` has it.
    """
    row = {"name": name, "holder": holder, "expires_at": now + ttl}
    upsert(
        session,
        _LEASES,
        [row],
        keys=("name",),
        update=("holder", "expires_at"),
        where=lambda new: or_(_LEASES.c.holder == new.holder, _LEASES.c.expires_at <= now),
    )
    current = session.execute(select(_LEASES.c.holder).where(_LEASES.c.name == name)).scalar_one()
    return bool(current == holder)


def renew_lease(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Extend ``holder``'s lease ``name`` to ``now + ttl``; False if it is not (or no longer) theirs."""
    stmt = update(_LEASES).where(_LEASES.c.name == name, _LEASES.c.holder == holder).values(expires_at=now + ttl)
    result: CursorResult[Any] = session.execute(stmt)  # type: ignore[assignment]  # DML gives a CursorResult
    return bool(result.rowcount)


def release_lease(session: Session, name: str, holder: str) -> bool:
    """Give up ``holder``'s lease ``name`` so another replica can take it at once; False if not theirs."""
    stmt = delete(_LEASES).where(_LEASES.c.name == name, _LEASES.c.holder == holder)
    result: CursorResult[Any] = session.execute(stmt)  # type: ignore[assignment]  # DML gives a CursorResult
    return bool(result.rowcount)


def lease_holder(session: Session, name: str, now: datetime) -> str | None:
    """Who holds the lease ``name`` at ``now`` (None when free or expired)."""
    query = select(_LEASES.c.holder).where(_LEASES.c.name == name, _LEASES.c.expires_at > now)
    return session.execute(query).scalar_one_or_none()


def get_watermark(session: Session, connection: str, obj: str) -> Watermark | None:
    """The watermark of object ``obj`` (``lead``, ``activity``...) of ``connection``, if one was stored."""
    query = select(_WATERMARKS).where(_WATERMARKS.c.connection == connection, _WATERMARKS.c.object == obj)
    row = session.execute(query).mappings().first()
    return None if row is None else Watermark(row["value"], row["cursor"], row["updated_at"])


def advance_watermark(
    session: Session, connection: str, obj: str, value: datetime | None, cursor: str | None, now: datetime
) -> bool:
    """Move the watermark forward to (``value``, ``cursor``); never back. True if it was written.

    Call it with the session that wrote the pulled rows: they commit together. A ``value`` earlier than the
    stored one is ignored; use :func:`reset_watermark` to rewind on purpose.
    """
    row = {"connection": connection, "object": obj, "value": value, "cursor": cursor, "updated_at": now}
    upsert(
        session,
        _WATERMARKS,
        [row],
        keys=("connection", "object"),
        update=("value", "cursor", "updated_at"),
        where=lambda new: or_(_WATERMARKS.c.value.is_(None), new.value >= _WATERMARKS.c.value),
    )
    stored = get_watermark(session, connection, obj)
    return stored is not None and stored.value == value and stored.cursor == cursor


def reset_watermark(session: Session, connection: str, obj: str) -> None:
    """Forget the watermark, so the next pull of ``obj`` starts from the beginning (a deliberate backfill)."""
    session.execute(delete(_WATERMARKS).where(_WATERMARKS.c.connection == connection, _WATERMARKS.c.object == obj))


def get_capture_cursor(session: Session, connection: str, source: str, folder: str) -> Cursor | None:
    """Where capture of ``folder`` (or calendar) in ``source`` (a mailbox or account) resumes, if known."""
    query = select(_CURSORS).where(
        _CURSORS.c.connection == connection, _CURSORS.c.source == source, _CURSORS.c.folder == folder
    )
    row = session.execute(query).mappings().first()
    if row is None:
        return None
    return Cursor(row["uidvalidity"], row["last_uid"], row["sync_token"])


def set_capture_cursor(
    session: Session, connection: str, source: str, folder: str, cursor: Cursor, now: datetime
) -> None:
    """Store where capture of ``folder`` in ``source`` resumes (replacing what was there)."""
    row = {
        "connection": connection,
        "source": source,
        "folder": folder,
        "uidvalidity": cursor.uidvalidity,
        "last_uid": cursor.last_uid,
        "sync_token": cursor.sync_token,
        "updated_at": now,
    }
    columns = ("uidvalidity", "last_uid", "sync_token", "updated_at")
    upsert(session, _CURSORS, [row], keys=("connection", "source", "folder"), update=columns)


def routing_pointers(session: Session, connection: str) -> dict[str, int]:
    """The round-robin position of every team of ``connection`` that has one (absent teams start at 0)."""
    query = select(_POINTERS.c.team, _POINTERS.c.position).where(_POINTERS.c.connection == connection)
    return dict(session.execute(query).all())


def set_routing_pointer(session: Session, connection: str, team: str, position: int) -> None:
    """Store ``team``'s round-robin position, as the pure router computed it."""
    row = {"connection": connection, "team": team, "position": position}
    upsert(session, _POINTERS, [row], keys=("connection", "team"), update=("position",))


def advance_routing_pointer(session: Session, connection: str, team: str, steps: int = 1) -> int:
    """Add ``steps`` to ``team``'s position atomically (concurrent callers each get their own); return it."""
    stmt = insert_for(session, _POINTERS).values(connection=connection, team=team, position=steps)
    stmt = stmt.on_conflict_do_update(
        index_elements=["connection", "team"],
        set_={"position": _POINTERS.c.position + stmt.excluded.position},
    )
    session.execute(stmt)
    query = select(_POINTERS.c.position).where(_POINTERS.c.connection == connection, _POINTERS.c.team == team)
    return int(session.execute(query).scalar_one())


class DatabaseCursorStore:
    """The capture :class:`~crmsync.capture.cursors.CursorStore` on the database: each call is a transaction."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def get_cursor(self, connection: str, source: str, folder: str) -> Cursor | None:
        """The saved cursor, or None when this folder was never read."""
        with self._db.transaction() as session:
            return get_capture_cursor(session, connection, source, folder)

    def set_cursor(self, connection: str, source: str, folder: str, cursor: Cursor) -> None:
        """Save ``cursor``; committed before this returns."""
        with self._db.transaction() as session:
            set_capture_cursor(session, connection, source, folder, cursor, self._clock.now())
