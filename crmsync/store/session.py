"""Engines and transactions.

:func:`make_engine` turns a settings URL into an engine tuned per dialect: SQLite gets WAL, a busy timeout
and foreign keys, and its transactions are begun by us (``BEGIN`` or ``BEGIN IMMEDIATE``) instead of by the
``sqlite3`` module, so a writer takes the write lock up front instead of failing half-way; PostgreSQL is
reached through psycopg 3 (``postgresql://`` is rewritten to ``postgresql+psycopg://``).

:class:`Database` hands out sessions in transactions: ``db.transaction()`` for reads and ordinary writes,
``db.transaction(immediate=True)`` where a read decides a write that must not race (leases, outbox claims).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000
BEGIN_IMMEDIATE_OPTION = "crmsync_begin_immediate"


def normalise_url(url: str | URL) -> URL:
    """Parse ``url`` and pick our drivers: psycopg 3 for PostgreSQL, the stdlib module for SQLite."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (SQLite or PostgreSQL) with crmsync's per-dialect settings."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000} | kwargs.pop("connect_args", {})
        engine = create_engine(parsed, connect_args=connect_args, **kwargs)
        _tune_sqlite(engine)
        return engine
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def _tune_sqlite(engine: Engine) -> None:
    """WAL and foreign keys (the busy timeout is the driver's ``timeout``); we emit BEGIN ourselves."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
        cursor = dbapi_connection.cursor()
        try:
            if engine.url.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(BEGIN_IMMEDIATE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """An engine plus a session factory; the one object the shell passes around to reach the store."""

    def __init__(self, url: str | URL, **engine_kwargs: Any) -> None:
        self.engine = make_engine(url, **engine_kwargs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._immediate_sessions = sessionmaker(
            self.engine.execution_options(**{BEGIN_IMMEDIATE_OPTION: True}), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @contextmanager
    def transaction(self, *, immediate: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled back if it raises.

        ``immediate`` takes SQLite's write lock at BEGIN (a no-op on PostgreSQL, which locks rows instead),
        for read-then-write sequences that must not interleave with another writer.
        """
        factory = self._immediate_sessions if immediate else self._sessions
        with factory() as session, session.begin():
            yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
