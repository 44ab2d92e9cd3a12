"""Contract: activities pulled or captured, deduplicated per connection, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from crmsync.domain import ActivitySource, Channel, Direction
from crmsync.store.repositories import activities
from crmsync.store.session import Database
from crmsync.store.tables import ActivityRow
from tests.store.helpers import CONN, NOW, make_activity


def _count(db: Database) -> int:
    with db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(ActivityRow)) or 0)


def test_upsert_twice_keeps_one_row_with_the_new_values(db: Database) -> None:
    """The same activity key upserted twice is one row carrying the later values."""
    with db.transaction() as session:
        activities.upsert_activities(session, [make_activity("00T1", "L1")])
        activities.upsert_activities(session, [make_activity("00T1", "L1", channel=Channel.CALL, subject="x")])
    with db.transaction() as session:
        ((stored, logged_at),) = activities.activities_for_leads(session, CONN, ["L1"])
    assert _count(db) == 1
    assert (stored.channel, stored.subject, logged_at) == (Channel.CALL, "x", None)


def test_same_key_in_two_connections_is_two_activities(db: Database) -> None:
    """Keys are unique per connection only."""
    with db.transaction() as session:
        activities.upsert_activities(
            session, [make_activity("00T1", "L1"), make_activity("00T1", "L1", connection="hs")]
        )
    assert _count(db) == 2


def test_pulled_copy_of_a_logged_capture_merges_into_it(db: Database) -> None:
    """Once a captured touch is logged as CRM id X, pulling X links to that row (no second row, capture kept)."""
    captured = make_activity("<msg-1@mail>", "L1", source=ActivitySource.CAPTURE, crm_id=None, subject="Hello")
    with db.transaction() as session:
        activities.upsert_activities(session, [captured])
        assert activities.mark_logged(session, CONN, "<msg-1@mail>", "00T9", NOW)
        assert not activities.mark_logged(session, CONN, "<unknown>", "00T8", NOW)
    pulled = make_activity("00T9", "L1", crm_id="00T9", subject="Hello (logged)")
    with db.transaction() as session:
        activities.upsert_activities(session, [pulled])
    with db.transaction() as session:
        ((stored, logged_at),) = activities.activities_for_leads(session, CONN, ["L1"])
    assert (stored.key, stored.crm_id, stored.source) == ("<msg-1@mail>", "00T9", ActivitySource.CAPTURE)
    assert stored.subject == "Hello"
    assert logged_at == NOW


def test_unlogged_captures_lists_only_captures_not_yet_written(db: Database) -> None:
    """Captured touches without a CRM write are listed oldest first; CRM ones and logged ones are not."""
    with db.transaction() as session:
        activities.upsert_activities(
            session,
            [
                make_activity("c2", "L1", source=ActivitySource.CAPTURE, crm_id=None, occurred_at=NOW),
                make_activity("c1", "L1", source=ActivitySource.CAPTURE, crm_id=None, occurred_at=NOW - timedelta(1)),
                make_activity("c3", "L2", source=ActivitySource.CAPTURE, crm_id=None),
                make_activity("00T1", "L1"),
            ],
        )
        activities.mark_logged(session, CONN, "c3", "00T3", NOW)
    with db.transaction() as session:
        pending = activities.unlogged_captures(session, CONN, limit=10)
    assert [a.key for a in pending] == ["c1", "c2"]


def test_activities_for_leads_round_trip_in_order(db: Database) -> None:
    """Activities come back equal to what was stored, by lead then time, only for the leads asked."""
    reply = make_activity(
        "00T2",
        "L1",
        direction=Direction.INBOUND,
        occurred_at=NOW - timedelta(hours=1),
        automated=True,
        duration_minutes=5,
    )
    later = make_activity("00T1", "L1")
    other = make_activity("00T3", "L2")
    with db.transaction() as session:
        activities.upsert_activities(session, [later, reply, other])
    with db.transaction() as session:
        found = [a for a, _ in activities.activities_for_leads(session, CONN, ["L1"])]
    assert found == [reply, later]
