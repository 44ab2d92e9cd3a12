"""Contract: named leases, watermarks, capture cursors and round-robin pointers, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from crmsync.capture.cursors import Cursor, CursorStore
from crmsync.clock import FakeClock
from crmsync.store.repositories import coordination, leads
from crmsync.store.repositories.coordination import DatabaseCursorStore
from crmsync.store.session import Database
from tests.store.helpers import CONN, NOW, make_lead

TTL = timedelta(seconds=30)


def _acquire(db: Database, holder: str, at: object = NOW, name: str = "leader:sf-prod") -> bool:
    with db.transaction() as session:
        return coordination.acquire_lease(session, name, holder, at, TTL)  # type: ignore[arg-type]


def test_lease_goes_to_one_holder_until_it_expires(db: Database) -> None:
    """A held lease refuses others until its expiry, then the first to ask takes it over."""
    assert _acquire(db, "a")
    assert not _acquire(db, "b", NOW + TTL - timedelta(seconds=1))
    assert _acquire(db, "a", NOW + timedelta(seconds=10))  # the holder re-acquires = renews
    assert not _acquire(db, "b", NOW + TTL)
    assert _acquire(db, "b", NOW + timedelta(seconds=10) + TTL)
    with db.transaction() as session:
        assert coordination.lease_holder(session, "leader:sf-prod", NOW + timedelta(seconds=45)) == "b"
        assert coordination.lease_holder(session, "leader:sf-prod", NOW + timedelta(hours=1)) is None


def test_renew_and_release_only_by_the_holder(db: Database) -> None:
    """Only the holder can renew or release; a released lease is free at once."""
    assert _acquire(db, "a")
    with db.transaction() as session:
        assert not coordination.renew_lease(session, "leader:sf-prod", "b", NOW, TTL)
        assert coordination.renew_lease(session, "leader:sf-prod", "a", NOW + TTL, TTL)
        assert not coordination.renew_lease(session, "other", "a", NOW, TTL)
    assert not _acquire(db, "b", NOW + TTL + timedelta(seconds=1))
    with db.transaction() as session:
        assert not coordination.release_lease(session, "leader:sf-prod", "b")
        assert coordination.release_lease(session, "leader:sf-prod", "a")
    assert _acquire(db, "b")


def test_racing_replicas_elect_exactly_one_leader(db: Database) -> None:
    """Eight threads acquiring the same free lease at once: exactly one wins."""
    results: dict[str, bool] = {}
    start = threading.Barrier(8)

    def race(holder: str) -> None:
        start.wait()
        results[holder] = _acquire(db, holder, name="race")

    threads = [threading.Thread(target=race, args=(f"r{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 8
    assert sum(results.values()) == 1


def test_watermark_advances_and_never_goes_back(db: Database) -> None:
    """A watermark moves forward (value, then cursor within a value), ignores an older value, resets on demand."""
    with db.transaction() as session:
        assert coordination.get_watermark(session, CONN, "lead") is None
        assert coordination.advance_watermark(session, CONN, "lead", NOW, None, NOW)
        assert coordination.advance_watermark(session, CONN, "lead", NOW, "00Q9", NOW)
        assert not coordination.advance_watermark(session, CONN, "lead", NOW - timedelta(1), None, NOW)
        mark = coordination.get_watermark(session, CONN, "lead")
        assert mark is not None
        assert (mark.value, mark.cursor) == (NOW, "00Q9")
        assert coordination.get_watermark(session, CONN, "activity") is None
        coordination.reset_watermark(session, CONN, "lead")
        assert coordination.get_watermark(session, CONN, "lead") is None


def test_watermark_commits_only_with_the_rows(db: Database) -> None:
    """When the transaction writing the pulled rows fails, neither the rows nor the watermark land."""

    def pull_then_crash() -> None:
        with db.transaction() as session:
            leads.upsert_leads(session, [make_lead("L1")], NOW)
            coordination.advance_watermark(session, CONN, "lead", NOW, None, NOW)
            raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError, match="crash"):
        pull_then_crash()
    with db.transaction() as session:
        assert coordination.get_watermark(session, CONN, "lead") is None
        assert list(leads.leads_by_ids(session, CONN, ["L1"])) == []


def test_capture_cursor_set_then_replaced(db: Database) -> None:
    """A capture cursor is stored per (connection, source, folder) and replaced on the next set."""
    with db.transaction() as session:
        assert coordination.get_capture_cursor(session, CONN, "ann@corp", "INBOX") is None
        coordination.set_capture_cursor(session, CONN, "ann@corp", "INBOX", Cursor(7, 100), NOW)
        coordination.set_capture_cursor(session, CONN, "ann@corp", "Sent", Cursor(9, 5), NOW)
        coordination.set_capture_cursor(session, CONN, "ann@corp", "INBOX", Cursor(7, 2**40), NOW)
        assert coordination.get_capture_cursor(session, CONN, "ann@corp", "INBOX") == Cursor(7, 2**40)
        assert coordination.get_capture_cursor(session, CONN, "ann@corp", "Sent") == Cursor(9, 5)
        coordination.set_capture_cursor(session, CONN, "cal", "work", Cursor(sync_token="t-1"), NOW)
        assert coordination.get_capture_cursor(session, CONN, "cal", "work") == Cursor(sync_token="t-1")


def test_database_cursor_store_serves_capture(db: Database, clock: FakeClock) -> None:
    """Capture's cursor port, backed by the database, keeps what it was given across instances."""
    store: CursorStore = DatabaseCursorStore(db, clock)
    assert store.get_cursor(CONN, "ann@corp", "INBOX") is None
    store.set_cursor(CONN, "ann@corp", "INBOX", Cursor(3, 44))
    assert DatabaseCursorStore(db, clock).get_cursor(CONN, "ann@corp", "INBOX") == Cursor(3, 44)


def test_routing_pointers_set_and_advance(db: Database) -> None:
    """Pointers start absent, can be set, and advance by steps; teams and connections are separate."""
    with db.transaction() as session:
        assert coordination.routing_pointers(session, CONN) == {}
        coordination.set_routing_pointer(session, CONN, "emea", 4)
        assert coordination.advance_routing_pointer(session, CONN, "emea") == 5
        assert coordination.advance_routing_pointer(session, CONN, "amer", 3) == 3
        coordination.set_routing_pointer(session, "hs", "emea", 1)
        assert coordination.routing_pointers(session, CONN) == {"emea": 5, "amer": 3}


def test_concurrent_pointer_advances_are_not_lost(db: Database) -> None:
    """Four threads advancing one pointer five times each end at twenty, every step seen once."""
    seen: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def step() -> None:
        start.wait()
        for _ in range(5):
            with db.transaction() as session:
                value = coordination.advance_routing_pointer(session, CONN, "emea")
            with lock:
                seen.append(value)

    threads = [threading.Thread(target=step) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(seen) == list(range(1, 21))
