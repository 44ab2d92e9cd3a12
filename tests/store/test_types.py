"""UtcDateTime: aware UTC in, aware UTC out, on both dialects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from crmsync.store.session import Database
from crmsync.store.tables import LeaseRow


def test_datetimes_come_back_aware_utc(db: Database) -> None:
    """A datetime written in another zone is read back as the same instant, tagged UTC."""
    plus_five = datetime(2026, 3, 2, 19, 0, tzinfo=timezone(timedelta(hours=5)))
    with db.transaction() as session:
        session.add(LeaseRow(name="x", holder="h", expires_at=plus_five))
    with db.transaction() as session:
        stored = session.scalars(select(LeaseRow.expires_at)).one()
    assert stored == plus_five
    assert stored.tzinfo is UTC
    assert stored.hour == 14


def test_naive_datetimes_are_refused(db: Database) -> None:
    """Writing a naive datetime fails loudly instead of guessing a zone."""
    naive = datetime(2026, 3, 2, 14, 0)  # noqa: DTZ001 - the point of the test
    with db.transaction() as session:
        session.add(LeaseRow(name="x", holder="h", expires_at=naive))
        with pytest.raises(StatementError, match="naive datetime"):
            session.flush()
        session.rollback()
