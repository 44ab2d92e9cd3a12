"""Fixtures every part of the suite shares: databases (SQLite and PostgreSQL) and a fake clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crmsync.clock import FakeClock

PG_ADMIN_URL = os.environ.get("CRMSYNC_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _pg_unavailable_reason() -> str | None:
    """Why PostgreSQL cannot be used for tests, or None if it can."""
    try:
        import psycopg
    except ImportError as err:  # pragma: no cover - psycopg is a runtime dependency
        return f"psycopg is not installed: {err}"
    dsn = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(dsn, connect_timeout=3) as conn:
            conn.execute("select 1")
    except psycopg.Error as err:
        return f"PostgreSQL at {dsn} is not reachable: {err}".strip()
    return None


def require_postgres() -> None:
    """Skip the calling test when PostgreSQL is unreachable; fail instead when running under CI=true."""
    reason = _pg_unavailable_reason()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@contextmanager
def temporary_pg_database(prefix: str = "crmsync_t") -> Iterator[str]:
    """A new, empty PostgreSQL database (its SQLAlchemy URL), dropped on exit; skips or fails like
    :func:`require_postgres` when the server is unreachable."""
    require_postgres()
    import psycopg

    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database file of this test's own."""
    return f"sqlite:///{tmp_path / 'crmsync.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each contract test runs once on SQLite and once on PostgreSQL (an empty database either way)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'crmsync.db'}"
        return
    with temporary_pg_database("crmsync_c") as url:
        yield url


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock at Monday 2026-03-02 14:00 UTC (09:00 in New York), moved only by the test."""
    return FakeClock(datetime(2026, 3, 2, 14, 0, tzinfo=UTC))


pytest_plugins = ["tests.logguard"]
