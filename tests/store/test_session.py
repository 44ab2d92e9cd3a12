"""Engines and transactions: URL normalisation, SQLite tuning, commit and rollback."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from crmsync.store.repositories import coordination
from crmsync.store.session import SQLITE_BUSY_TIMEOUT_MS, Database, normalise_url


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://u@h:5432/db", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("sqlite:///./crmsync.db", "sqlite"),
    ],
    ids=["postgresql", "postgres-alias", "explicit-psycopg", "sqlite"],
)
def test_urls_are_routed_to_our_drivers(given: str, driver: str) -> None:
    """Plain PostgreSQL URLs are sent through psycopg 3; SQLite URLs are left as they are."""
    assert normalise_url(given).drivername == driver


def test_sqlite_connections_use_wal_and_wait_for_locks(sqlite_url: str) -> None:
    """Every SQLite connection runs in WAL mode with a busy timeout, so readers and a writer coexist."""
    db = Database(sqlite_url)
    try:
        with db.transaction() as session:
            assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert session.execute(text("PRAGMA busy_timeout")).scalar() == SQLITE_BUSY_TIMEOUT_MS
            assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        db.dispose()


def test_immediate_transaction_holds_the_sqlite_write_lock_from_begin(sqlite_url: str) -> None:
    """An immediate transaction owns the write lock before writing, so a second writer cannot start."""
    from crmsync.store.migrate import upgrade

    upgrade(sqlite_url)
    db = Database(sqlite_url)
    other = Database(sqlite_url)
    try:
        with db.transaction(immediate=True) as session:
            session.execute(text("SELECT 1"))
            with other.engine.connect() as blocked:
                blocked.exec_driver_sql("PRAGMA busy_timeout=50")
                with pytest.raises(OperationalError, match="locked"):
                    blocked.exec_driver_sql("INSERT INTO leases VALUES ('n', 'h', '2026-01-01 00:00:00')")
    finally:
        other.dispose()
        db.dispose()


def test_transaction_commits_on_success_and_rolls_back_on_error(db: Database) -> None:
    """A block that ends normally is committed; one that raises leaves nothing behind."""
    with db.transaction() as session:
        coordination.set_routing_pointer(session, "c", "kept", 1)

    def write_then_fail() -> None:
        with db.transaction() as session:
            coordination.set_routing_pointer(session, "c", "lost", 1)
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        write_then_fail()
    with db.transaction() as session:
        assert coordination.routing_pointers(session, "c") == {"kept": 1}
