"""Store fixtures: a migrated database on each backend, reached through :class:`Database`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crmsync.store.migrate import upgrade
from crmsync.store.session import Database


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A database migrated to the head, on SQLite and on PostgreSQL; its pool is closed afterwards."""
    upgrade(db_url)
    database = Database(db_url)
    try:
        yield database
    finally:
        database.dispose()
