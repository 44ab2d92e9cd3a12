"""Contract: the outbox table — idempotent enqueue, atomic leasing, fenced saves — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest

from crmsync.outbox.model import OutboxStatus, release
from crmsync.store.repositories import outbox
from crmsync.store.repositories.outbox import NewOutboxRow
from crmsync.store.session import Database
from tests.store.helpers import CONN, NOW

TTL = timedelta(minutes=5)


def _row(key: str, *, priority: int = 100, connection: str = CONN) -> NewOutboxRow:
    return NewOutboxRow(connection, key, "assign", "L1", {"owner_id": "005B", "key": key}, priority)


def _enqueue(db: Database, *rows: NewOutboxRow) -> set[str]:
    with db.transaction() as session:
        return outbox.enqueue_many(session, rows, NOW)


def _lease(db: Database, holder: str, limit: int, at: object = NOW) -> list[outbox.OutboxItem]:
    with db.transaction(immediate=True) as session:
        return outbox.lease_batch(session, holder, at, TTL, limit)  # type: ignore[arg-type]


def test_enqueue_is_idempotent_by_key(db: Database) -> None:
    """A key enqueued twice is one row; the second call reports it was not added and changes nothing."""
    with db.transaction() as session:
        assert outbox.enqueue(session, _row("k1"), NOW)
    with db.transaction() as session:
        assert not outbox.enqueue(session, replace(_row("k1"), payload={"other": True}), NOW)
    with db.transaction() as session:
        item = outbox.get(session, "k1")
    assert item is not None
    assert item.payload == {"owner_id": "005B", "key": "k1"}
    assert (item.entry.status, item.entry.attempts, item.entry.next_attempt_at) == (OutboxStatus.PENDING, 0, NOW)


def test_enqueue_many_reports_only_new_keys(db: Database) -> None:
    """A batch with known keys and a repeated key adds each new key once and returns exactly those."""
    assert _enqueue(db, _row("k1")) == {"k1"}
    assert _enqueue(db, _row("k1"), _row("k2"), _row("k2"), _row("k3")) == {"k2", "k3"}
    with db.transaction() as session:
        assert outbox.count_by_status(session) == {OutboxStatus.PENDING: 3}


def test_enqueue_many_crosses_statement_chunks(db: Database) -> None:
    """More rows than one multi-row INSERT holds are all added."""
    keys = {f"k{n}" for n in range(700)}
    assert _enqueue(db, *(_row(k) for k in keys)) == keys


def test_lease_takes_lowest_priority_number_first_and_marks_rows(db: Database) -> None:
    """Leasing returns the most urgent rows, marked leased by the holder until now + ttl."""
    _enqueue(db, _row("late", priority=2), _row("sla", priority=0), _row("cap", priority=1))
    batch = _lease(db, "w1", 2)
    assert [item.entry.key for item in batch] == ["sla", "cap"]
    assert {(i.entry.status, i.entry.lease_holder, i.entry.lease_expires_at) for i in batch} == {
        (OutboxStatus.LEASED, "w1", NOW + TTL)
    }
    assert [item.entry.key for item in _lease(db, "w2", 5)] == ["late"]
    assert _lease(db, "w3", 5) == []


def test_lease_respects_retry_time_and_final_states(db: Database) -> None:
    """Retries are leasable only once due; done, dead and skipped rows never are."""
    _enqueue(db, *(_row(k) for k in ("retry-later", "retry-due", "done", "dead", "skipped")))
    plan = {
        "retry-later": (OutboxStatus.RETRY, NOW + timedelta(minutes=1)),
        "retry-due": (OutboxStatus.RETRY, NOW),
        "done": (OutboxStatus.DONE, None),
        "dead": (OutboxStatus.DEAD, None),
        "skipped": (OutboxStatus.SKIPPED, None),
    }
    with db.transaction() as session:
        for key, (status, due) in plan.items():
            item = outbox.get(session, key)
            assert item is not None
            assert outbox.save(session, replace(item.entry, status=status, next_attempt_at=due), NOW)
    assert [i.entry.key for i in _lease(db, "w1", 10)] == ["retry-due"]
    assert [i.entry.key for i in _lease(db, "w1", 10, NOW + timedelta(minutes=1))] == ["retry-later"]


def test_expired_lease_is_taken_over_and_the_old_holder_is_fenced_out(db: Database) -> None:
    """After its lease expires a row goes to a new holder, and the old holder's late save is refused."""
    _enqueue(db, _row("k1"))
    (first,) = _lease(db, "w1", 1)
    assert _lease(db, "w2", 1, NOW + TTL - timedelta(seconds=1)) == []
    (taken,) = _lease(db, "w2", 1, NOW + TTL)
    assert taken.entry.lease_holder == "w2"
    done = replace(first.entry, status=OutboxStatus.DONE, done_at=NOW, lease_holder=None, lease_expires_at=None)
    with db.transaction() as session:
        assert outbox.save_leased(session, [done], "w1", NOW) == set()
        assert outbox.save_leased(session, [replace(done, key="k1")], "w2", NOW) == {"k1"}
        stored = outbox.get(session, "k1")
    assert stored is not None
    assert (stored.entry.status, stored.entry.done_at, stored.entry.lease_holder) == (OutboxStatus.DONE, NOW, None)


def test_released_rows_are_leasable_again(db: Database) -> None:
    """A row given back with the pure ``release`` transition is leased again by the next dispatcher."""
    _enqueue(db, _row("k1"))
    (item,) = _lease(db, "w1", 1)
    with db.transaction() as session:
        assert outbox.save_leased(session, [release(item.entry)], "w1", NOW) == {"k1"}
    assert [i.entry.key for i in _lease(db, "w2", 1)] == ["k1"]


def test_extend_leases_only_for_the_holder(db: Database) -> None:
    """A holder can push its own leases forward; another holder cannot."""
    _enqueue(db, _row("k1"))
    _lease(db, "w1", 1)
    with db.transaction() as session:
        assert outbox.extend_leases(session, ["k1"], "w2", NOW, TTL * 2) == 0
        assert outbox.extend_leases(session, ["k1"], "w1", NOW, TTL * 2) == 1
        item = outbox.get(session, "k1")
    assert item is not None
    assert item.entry.lease_expires_at == NOW + TTL * 2


def test_lease_can_be_limited_to_one_connection(db: Database) -> None:
    """A dispatcher for one connection never leases another connection's rows."""
    _enqueue(db, _row("a", connection="hs"), _row("b"))
    with db.transaction(immediate=True) as session:
        batch = outbox.lease_batch(session, "w1", NOW, TTL, 10, connection="hs")
    assert [i.entry.key for i in batch] == ["a"]


def test_find_lists_rows_by_status(db: Database) -> None:
    """Operators can list rows of one status, oldest first."""
    _enqueue(db, _row("k1"), _row("k2"), _row("k3"))
    _lease(db, "w1", 1)
    with db.transaction() as session:
        assert [i.entry.key for i in outbox.find(session, status=OutboxStatus.PENDING)] == ["k2", "k3"]
        assert outbox.count_by_status(session, connection=CONN) == {
            OutboxStatus.PENDING: 2,
            OutboxStatus.LEASED: 1,
        }


def test_concurrent_dispatchers_never_lease_the_same_row(db: Database) -> None:
    """Four threads leasing small batches at once share the rows out with no row leased twice."""
    keys = {f"k{n:03d}" for n in range(120)}
    _enqueue(db, *(_row(k) for k in keys))
    leased: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def work(holder: str) -> None:
        try:
            start.wait()
            while batch := _lease(db, holder, 7):
                with lock:
                    leased.extend(item.entry.key for item in batch)
        except BaseException as err:  # surfaced by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert Counter(leased).most_common(1)[0][1] == 1
    assert set(leased) == keys


def test_postgres_lessees_skip_rows_locked_by_an_open_transaction(db: Database) -> None:
    """On PostgreSQL a second dispatcher does not wait for the first's uncommitted lease: it takes other rows."""
    if db.dialect != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serialises lessees with its write lock instead")
    _enqueue(db, *(_row(f"k{n}") for n in range(6)))
    with db.transaction() as first:
        mine = {i.entry.key for i in outbox.lease_batch(first, "w1", NOW, TTL, 3)}
        with db.transaction() as second:
            second.connection().exec_driver_sql("SET LOCAL lock_timeout = '2s'")
            theirs = {i.entry.key for i in outbox.lease_batch(second, "w2", NOW, TTL, 6)}
    assert len(mine) == 3
    assert len(theirs) == 3
    assert mine.isdisjoint(theirs)
