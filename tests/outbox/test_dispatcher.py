"""The dispatcher leases due rows, checks each premise, applies in batches and records every outcome."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from crmsync.clock import FakeClock
from crmsync.crm.ports import Outcome, OutcomeStatus
from crmsync.domain import Action, Assign, CreateTask, Flag, LeadRef, Reassign
from crmsync.errors import AuthError
from crmsync.outbox import codec
from crmsync.outbox.dispatcher import Dispatcher, wrap_payload
from crmsync.outbox.model import OutboxStatus, RetryPolicy, priority_of
from crmsync.store import migrate
from crmsync.store.repositories import history
from crmsync.store.repositories import outbox as rows
from crmsync.store.session import Database
from tests.outbox.fakes import MemoryCrm, transient


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A migrated, empty store on SQLite or PostgreSQL."""
    migrate.upgrade(db_url)
    database = Database(db_url)
    yield database
    database.dispose()


def _assign(lead: str, to: str = "005B", expected: str | None = "00GQ") -> Assign:
    return Assign(LeadRef("sf", lead), to, expected, "everyone else", "round robin", "Assigned", None)


def _enqueue(db: Database, clock: FakeClock, actions: list[Action]) -> None:
    new = [
        rows.NewOutboxRow(
            "sf",
            f"sf/{a.lead.lead_id}:{codec.kind_of(a)}:e0",
            codec.kind_of(a),
            a.lead.lead_id,
            wrap_payload(a, "everyone else", "abc123"),
            priority_of(a),
        )
        for a in actions
    ]
    with db.transaction() as session:
        rows.enqueue_many(session, new, clock.now())


def _status(db: Database, key: str) -> OutboxStatus:
    with db.transaction() as session:
        item = rows.get(session, key)
    assert item is not None
    return item.entry.status


def _dispatcher(db: Database, crm: MemoryCrm, clock: FakeClock, **kw: object) -> Dispatcher:
    return Dispatcher(db, crm, clock, "worker-1", retry=RetryPolicy(max_attempts=3), **kw)  # type: ignore[arg-type]


def test_applies_and_audits_an_assignment(db: Database, clock: FakeClock) -> None:
    """A pending assignment lands in the CRM, its row is done, and an audit row records before/after and rule."""
    crm = MemoryCrm({"L1": "00GQ"})
    _enqueue(db, clock, [_assign("L1")])
    report = _dispatcher(db, crm, clock).run()
    assert (report.done, crm.owners["L1"]) == (1, "005B")
    assert _status(db, "sf/L1:assign:e0") is OutboxStatus.DONE
    with db.transaction() as session:
        trail = history.audit_trail(session, "sf", "L1")
    assert [(a.action, a.before, a.after, a.rule, a.policy_hash) for a in trail] == [
        ("assign", {"owner_id": "00GQ"}, {"owner_id": "005B"}, "everyone else", "abc123")
    ]


def test_batches_are_as_large_as_the_crm_allows(db: Database, clock: FakeClock) -> None:
    """450 same-kind actions with a batch size of 200 take three apply calls and one owner read each."""
    crm = MemoryCrm({f"L{i}": "00GQ" for i in range(450)})
    _enqueue(db, clock, [_assign(f"L{i}") for i in range(450)])
    report = _dispatcher(db, crm, clock).run()
    assert report.done == 450
    assert [len(batch) for batch in crm.applied] == [200, 200, 50]
    assert crm.owner_reads == 3


def test_owner_changed_since_the_decision_is_skipped(db: Database, clock: FakeClock) -> None:
    """A rep took the lead between decision and dispatch: the move is skipped with the reason, not applied."""
    crm = MemoryCrm({"L1": "005Z"})
    _enqueue(db, clock, [_assign("L1")])
    report = _dispatcher(db, crm, clock).run()
    assert (report.skipped, crm.applied, crm.owners["L1"]) == (1, [], "005Z")
    with db.transaction() as session:
        item = rows.get(session, "sf/L1:assign:e0")
    assert item is not None
    assert item.entry.last_error == "PREMISE_CHANGED: owner changed since the decision (expected 00GQ, now 005Z)"


def test_touched_since_the_decision_is_skipped(db: Database, clock: FakeClock) -> None:
    """A reassignment of a lead its owner touched after the decision is dropped."""
    crm = MemoryCrm({"L1": "005A"})
    _enqueue(db, clock, [Reassign(LeadRef("sf", "L1"), "005B", "005A", "no first touch", 1, "Reassigned", None)])
    report = _dispatcher(db, crm, clock, touched_since=lambda ids, since: {"L1"}).run()
    assert (report.skipped, crm.owners["L1"]) == (1, "005A")


def test_deleted_lead_is_skipped(db: Database, clock: FakeClock) -> None:
    """A lead that no longer exists is skipped, not retried."""
    crm = MemoryCrm({})
    _enqueue(db, clock, [_assign("L1")])
    assert _dispatcher(db, crm, clock).run().skipped == 1


def test_transient_failure_retries_after_the_servers_delay(db: Database, clock: FakeClock) -> None:
    """A 429 on the whole call turns every row of the batch into a retry not due before Retry-After."""
    crm = MemoryCrm({"L1": "00GQ", "L2": "00GQ"}, raise_next=[transient("rate limited", retry_after=120)])
    _enqueue(db, clock, [_assign("L1"), _assign("L2")])
    first = _dispatcher(db, crm, clock).run()
    assert (first.retry, first.done) == (2, 0)
    assert _dispatcher(db, crm, clock).run().leased == 0
    clock.advance(timedelta(seconds=121))
    assert _dispatcher(db, crm, clock).run().done == 2
    assert crm.owners == {"L1": "005B", "L2": "005B"}


def test_per_record_failures_are_kept_apart(db: Database, clock: FakeClock) -> None:
    """In one batch, a validation error is dead with the CRM's message and a lock error retries; others land."""
    crm = MemoryCrm(
        {"L1": "00GQ", "L2": "00GQ", "L3": "00GQ"},
        fail={
            "L2": Outcome(OutcomeStatus.DEAD, code="FIELD_CUSTOM_VALIDATION_EXCEPTION", message="Region required"),
            "L3": Outcome(OutcomeStatus.RETRY, code="UNABLE_TO_LOCK_ROW", message="unable to obtain lock"),
        },
    )
    _enqueue(db, clock, [_assign("L1"), _assign("L2"), _assign("L3")])
    report = _dispatcher(db, crm, clock).run()
    assert (report.done, report.dead, report.retry) == (1, 1, 1)
    with db.transaction() as session:
        dead = rows.get(session, "sf/L2:assign:e0")
    assert dead is not None
    assert dead.entry.last_error == "FIELD_CUSTOM_VALIDATION_EXCEPTION: Region required"


def test_retries_are_bounded(db: Database, clock: FakeClock) -> None:
    """A row that keeps failing transiently is dead after max_attempts (3), never dropped silently."""
    crm = MemoryCrm({"L1": "00GQ"}, fail={"L1": Outcome(OutcomeStatus.RETRY, code="UNABLE_TO_LOCK_ROW")})
    _enqueue(db, clock, [_assign("L1")])
    for _ in range(3):
        _dispatcher(db, crm, clock).run()
        clock.advance(timedelta(hours=2))
    assert _status(db, "sf/L1:assign:e0") is OutboxStatus.DEAD
    assert len(crm.applied) == 3


def test_undecodable_row_is_dead_with_the_reason(db: Database, clock: FakeClock) -> None:
    """A row whose payload cannot be decoded is dead-lettered, and the others still go."""
    crm = MemoryCrm({"L1": "00GQ"})
    _enqueue(db, clock, [_assign("L1")])
    with db.transaction() as session:
        rows.enqueue(session, rows.NewOutboxRow("sf", "bad", "teleport", "L9", {"action": {}}, 0), clock.now())
    report = _dispatcher(db, crm, clock).run()
    assert (report.dead, report.done) == (1, 1)


def test_stop_request_releases_unapplied_rows(db: Database, clock: FakeClock) -> None:
    """On SIGTERM between groups the rows not yet applied go back untouched (no attempt counted)."""
    stop = threading.Event()
    crm = MemoryCrm({"L1": "00GQ"})
    _enqueue(db, clock, [_assign("L1"), Flag(LeadRef("sf", "L1"), "closed early")])

    class StopAfterFirst(MemoryCrm):
        def apply(self, actions: list[Action]) -> list[Outcome]:  # type: ignore[override]
            stop.set()
            return super().apply(actions)

    stopping = StopAfterFirst(crm.owners)
    report = _dispatcher(db, stopping, clock, stop=stop).run()
    assert (report.done, report.released, report.stopped) == (1, 1, True)
    with db.transaction() as session:
        flag = rows.get(session, "sf/L1:flag:e0")
    assert flag is not None
    assert (flag.entry.status, flag.entry.attempts) == (OutboxStatus.PENDING, 0)


def test_fatal_error_releases_leases_and_propagates(db: Database, clock: FakeClock) -> None:
    """Revoked credentials stop the connection: the error propagates and the rows are leasable again."""
    crm = MemoryCrm({"L1": "00GQ"}, raise_next=[AuthError("invalid_grant", connection="sf")])
    _enqueue(db, clock, [_assign("L1")])
    with pytest.raises(AuthError):
        _dispatcher(db, crm, clock).run()
    assert _status(db, "sf/L1:assign:e0") is OutboxStatus.PENDING


def test_budget_reserve_defers_work(db: Database, clock: FakeClock) -> None:
    """When the budget refuses a priority, its rows wait (retry later) instead of spending calls."""
    crm = MemoryCrm({"L1": "00GQ"}, allowed=False)
    _enqueue(db, clock, [_assign("L1")])
    report = _dispatcher(db, crm, clock).run()
    assert (report.retry, crm.applied) == (1, [])


def _reassign_and_task(lead: str) -> list[Action]:
    move = Reassign(LeadRef("sf", lead), "005B", "005A", "no first touch", 1, "Reassigned", None)
    task = CreateTask(
        LeadRef("sf", lead), "005B", "Reassigned to you", "no first touch", None, after=f"sf/{lead}:reassign:e0"
    )
    return [move, task]


def test_task_is_created_once_its_move_landed(db: Database, clock: FakeClock) -> None:
    """A 'Reassigned to you' task goes out after the reassignment it announces is done."""
    crm = MemoryCrm({"L1": "005A"})
    _enqueue(db, clock, _reassign_and_task("L1"))
    report = _dispatcher(db, crm, clock).run()
    assert (report.done, crm.owners["L1"]) == (2, "005B")
    assert [type(a).__name__ for batch in crm.applied for a in batch] == ["Reassign", "CreateTask"]


def test_task_is_dropped_when_its_move_did_not_land(db: Database, clock: FakeClock) -> None:
    """If the reassignment was skipped (the rep took the lead back), the new owner gets no task."""
    crm = MemoryCrm({"L1": "005Z"})
    _enqueue(db, clock, _reassign_and_task("L1"))
    report = _dispatcher(db, crm, clock).run()
    assert (report.skipped, crm.applied) == (2, [])
    with db.transaction() as session:
        task = rows.get(session, "sf/L1:createtask:e0")
    assert task is not None
    assert task.entry.last_error == "MOVE_NOT_LANDED: the move it announces did not land (skipped)"


def test_task_waits_without_spending_attempts_while_its_move_retries(db: Database, clock: FakeClock) -> None:
    """While the move waits for a retry, its task is postponed (no attempt counted) and lands after the move."""
    crm = MemoryCrm({"L1": "005A"}, fail={"L1": Outcome(OutcomeStatus.RETRY, code="UNABLE_TO_LOCK_ROW")})
    _enqueue(db, clock, _reassign_and_task("L1"))
    first = _dispatcher(db, crm, clock).run()
    assert (first.retry, first.postponed) == (1, 1)
    with db.transaction() as session:
        task = rows.get(session, "sf/L1:createtask:e0")
    assert task is not None
    assert (task.entry.status, task.entry.attempts) == (OutboxStatus.RETRY, 0)
    crm.fail.clear()
    clock.advance(timedelta(hours=1))
    assert _dispatcher(db, crm, clock).run().done == 2


def test_stop_request_between_chunks_of_one_kind(db: Database, clock: FakeClock) -> None:
    """A stop during a large group takes effect before its next CRM-sized chunk; the rest goes back untouched."""
    stop = threading.Event()

    class StopAfterFirst(MemoryCrm):
        def apply(self, actions: list[Action]) -> list[Outcome]:  # type: ignore[override]
            stop.set()
            return super().apply(actions)

    crm = StopAfterFirst({f"L{i}": "00GQ" for i in range(5)}, size=2)
    _enqueue(db, clock, [_assign(f"L{i}") for i in range(5)])
    report = _dispatcher(db, crm, clock, stop=stop).run()
    assert (report.done, report.released, report.stopped, len(crm.applied)) == (2, 3, True, 1)
