"""The outbox row's state machine: leasing, outcomes, backoff, release, operator retry and drop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.crm.ports import Outcome, OutcomeStatus
from crmsync.domain import (
    Assign,
    Channel,
    CreateTask,
    Direction,
    Flag,
    Hide,
    LeadRef,
    LogActivity,
    Reassign,
    Recycle,
    Reopen,
    SetDisposition,
)
from crmsync.outbox import codec
from crmsync.outbox.model import (
    OutboxEntry,
    OutboxStatus,
    Priority,
    RetryPolicy,
    drop,
    is_leasable,
    lease,
    priority_of,
    record,
    release,
    retry_now,
)

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
TTL = timedelta(seconds=30)
POLICY = RetryPolicy(base=timedelta(seconds=30), cap=timedelta(hours=1), max_attempts=3, jitter=0.2)
LEAD = LeadRef("sf", "00Q000000000001AAA")


def _leased(attempts: int = 0) -> OutboxEntry:
    return lease(OutboxEntry("k1", OutboxStatus.PENDING, attempts=attempts), "w1", NOW, TTL)


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (Outcome(OutcomeStatus.DONE), OutboxStatus.DONE),
        (Outcome(OutcomeStatus.SKIPPED, message="owner changed"), OutboxStatus.SKIPPED),
        (
            Outcome(OutcomeStatus.DEAD, code="FIELD_CUSTOM_VALIDATION_EXCEPTION", message="no"),
            OutboxStatus.DEAD,
        ),
        (Outcome(OutcomeStatus.RETRY, code="UNABLE_TO_LOCK_ROW"), OutboxStatus.RETRY),
    ],
    ids=["done", "skipped", "dead-with-message", "retry"],
)
def test_outcome_moves_a_leased_row(outcome: Outcome, status: OutboxStatus) -> None:
    """Each CRM outcome moves the leased row to its state, counts the attempt and frees the lease."""
    after = record(_leased(), outcome, NOW, POLICY)
    assert after.status is status
    assert after.attempts == 1
    assert after.lease_holder is None


def test_dead_row_keeps_the_crm_message() -> None:
    """A permanent refusal keeps the CRM's code and message for the operator."""
    after = record(
        _leased(),
        Outcome(OutcomeStatus.DEAD, code="ENTITY_IS_DELETED", message="entity is deleted"),
        NOW,
        POLICY,
    )
    assert after.last_error == "ENTITY_IS_DELETED: entity is deleted"


def test_retry_waits_at_least_retry_after() -> None:
    """A 429 with Retry-After 600 s is not tried again before 600 s, whatever the backoff says."""
    after = record(_leased(), Outcome(OutcomeStatus.RETRY, retry_after=600), NOW, POLICY)
    assert after.next_attempt_at is not None
    assert after.next_attempt_at >= NOW + timedelta(seconds=600)


def test_retries_are_bounded_then_dead() -> None:
    """The third transient failure with max_attempts=3 dead-letters the row, saying why."""
    after = record(_leased(attempts=2), Outcome(OutcomeStatus.RETRY, code="SERVER_ERROR"), NOW, POLICY)
    assert after.status is OutboxStatus.DEAD
    assert after.last_error == "gave up after 3 attempts: SERVER_ERROR"


def test_retry_row_is_leasable_only_when_due() -> None:
    """A retrying row waits for its next attempt time."""
    after = record(_leased(), Outcome(OutcomeStatus.RETRY), NOW, POLICY)
    assert not is_leasable(after, NOW)
    assert after.next_attempt_at is not None
    assert is_leasable(after, after.next_attempt_at)


def test_expired_lease_can_be_taken_over() -> None:
    """A row leased by a holder that died becomes leasable when the lease expires, not before."""
    row = _leased()
    assert not is_leasable(row, NOW + TTL - timedelta(seconds=1))
    taken = lease(row, "w2", NOW + TTL, TTL)
    assert taken.lease_holder == "w2"


def test_final_rows_cannot_be_leased() -> None:
    """Done, dead and skipped rows are never leased again."""
    for status in (OutboxStatus.DONE, OutboxStatus.DEAD, OutboxStatus.SKIPPED):
        with pytest.raises(ValueError, match="cannot be leased"):
            lease(OutboxEntry("k", status), "w", NOW, TTL)


def test_release_does_not_count_an_attempt() -> None:
    """Giving a row back on shutdown leaves its attempt count and makes it pending again."""
    released = release(_leased())
    assert released.status is OutboxStatus.PENDING
    assert released.attempts == 0
    assert is_leasable(released, NOW)


def test_operator_retry_and_drop() -> None:
    """`outbox retry` makes a dead row due now with attempts reset; `outbox drop` skips a pending one."""
    dead = record(_leased(), Outcome(OutcomeStatus.DEAD, message="x"), NOW, POLICY)
    again = retry_now(dead, NOW)
    assert (again.status, again.attempts, again.next_attempt_at) == (OutboxStatus.RETRY, 0, NOW)
    dropped = drop(OutboxEntry("k", OutboxStatus.PENDING), NOW, "duplicate lead")
    assert dropped.status is OutboxStatus.SKIPPED
    assert dropped.last_error == "dropped: duplicate lead"
    with pytest.raises(ValueError, match="already"):
        drop(dropped, NOW, "again")


@settings(max_examples=200, deadline=None)
@given(
    attempts=st.integers(1, 40),
    key=st.text(min_size=1, max_size=20),
    retry_after=st.none() | st.floats(0, 7200),
)
def test_backoff_is_bounded_and_honours_retry_after(attempts: int, key: str, retry_after: float | None) -> None:
    """The delay never exceeds the cap (unless the server asked for longer) nor falls short of the ask."""
    wait = POLICY.delay(attempts, key, retry_after)
    assert wait > timedelta(0)
    if retry_after is not None:
        assert wait >= timedelta(seconds=retry_after)
    assert wait <= max(POLICY.cap, timedelta(seconds=retry_after or 0))


ALL_ACTIONS = [
    Assign(LEAD, "005A", None, "everyone else", "round robin", "Assigned: first touch due", NOW),
    Reassign(LEAD, "005B", "005A", "no first touch", 1, "Reassigned", NOW + timedelta(hours=1)),
    Hide(LEAD, "00GQ", "005A", "not MQL: score 42 < 60"),
    Recycle(LEAD, "00GQ", "005B", "Recycled", "Recycled: no first touch after 2 reassignments"),
    SetDisposition(LEAD, "Unresponsive"),
    Reopen(LEAD, "Working", "005A", "005A", "Reopened: 2 of 5 required touches"),
    Flag(LEAD, "closed with 1 of 5 touches"),
    CreateTask(LEAD, "005B", "Reassigned to you", "first touch due 10:00", None),
    LogActivity(LEAD, "<m1@acme.test>", "005A", Channel.EMAIL, Direction.OUTBOUND, NOW, "Hello", None, None),
]


@pytest.mark.parametrize("action", ALL_ACTIONS, ids=lambda a: type(a).__name__)
def test_codec_round_trips_every_action(action: object) -> None:
    """Every action kind survives encode → JSON → decode unchanged."""
    import json

    kind = codec.kind_of(action)  # type: ignore[arg-type]
    payload = json.loads(json.dumps(codec.encode(action)))  # type: ignore[arg-type]
    assert codec.decode(kind, payload) == action


def test_codec_covers_the_whole_union() -> None:
    """The codec knows every member of the Action union (a new action cannot be forgotten)."""
    from typing import get_args

    from crmsync.domain import Action

    assert set(codec.ACTION_TYPES.values()) == set(get_args(Action))
    assert {type(a) for a in ALL_ACTIONS} == set(get_args(Action))


def test_codec_rejects_bad_payloads() -> None:
    """An unknown kind, a missing field or a naive datetime is a ValueError, not a half-built action."""
    with pytest.raises(ValueError, match="unknown action kind"):
        codec.decode("teleport", {})
    with pytest.raises(ValueError, match="missing field"):
        codec.decode("flag", {"lead": {"connection": "sf", "lead_id": "1"}})
    payload = codec.encode(ALL_ACTIONS[0])
    payload["due_at"] = "2026-03-02T14:00:00"
    with pytest.raises(ValueError, match="without a timezone"):
        codec.decode("assign", payload)


def test_priorities_put_sla_work_first() -> None:
    """Reassignments go before captured-activity logging, which goes before tasks and dispositions."""
    assert priority_of(ALL_ACTIONS[1]) == Priority.SLA
    assert priority_of(ALL_ACTIONS[-1]) == Priority.CAPTURE
    assert priority_of(ALL_ACTIONS[4]) == Priority.BACKFILL
    assert Priority.SLA < Priority.CAPTURE < Priority.BACKFILL
