"""The outbox row as a pure, leased, resumable state machine.

::

    PENDING ──lease──► LEASED ──outcome DONE──────► DONE
       ▲                  │    ──outcome SKIPPED───► SKIPPED   (premise changed: owner moved, lead gone)
       │                  │    ──outcome DEAD──────► DEAD      (the CRM refused for good; message kept)
       │                  │    ──outcome RETRY─────► RETRY ──(next_attempt_at passes)──► leasable again
       │                  │                           └── after max_attempts ──────────► DEAD
       └──release─────────┘    (graceful shutdown: back without counting an attempt)
    LEASED whose lease expired (holder died) is leasable again by anyone.

Every function here is pure: it takes the row and ``now`` and returns the new row.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from crmsync.crm.ports import Outcome, OutcomeStatus
from crmsync.domain import (
    Action,
    Assign,
    CreateTask,
    Flag,
    Hide,
    LogActivity,
    Reassign,
    Recycle,
    Reopen,
    SetDisposition,
)


class OutboxStatus(StrEnum):
    """Where an outbox row stands."""

    PENDING = "pending"
    LEASED = "leased"
    RETRY = "retry"
    DONE = "done"
    DEAD = "dead"
    SKIPPED = "skipped"

    @property
    def final(self) -> bool:
        """Done, dead and skipped rows are never touched again."""
        return self in (OutboxStatus.DONE, OutboxStatus.DEAD, OutboxStatus.SKIPPED)


class Priority:
    """Lower goes first: SLA enforcement, then captured-activity logging, then everything else."""

    SLA = 0
    CAPTURE = 1
    BACKFILL = 2


def priority_of(action: Action) -> int:
    """The dispatch priority of an action (DESIGN §5: SLA reassignments before capture before backfill)."""
    match action:
        case Assign() | Reassign() | Hide() | Recycle() | Reopen():
            return Priority.SLA
        case LogActivity():
            return Priority.CAPTURE
        case SetDisposition() | Flag() | CreateTask():
            return Priority.BACKFILL


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with deterministic jitter, bounded in delay and attempts."""

    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)
    max_attempts: int = 12
    jitter: float = 0.2

    def delay(self, attempts: int, key: str, retry_after: float | None = None) -> timedelta:
        """The wait before attempt ``attempts + 1``: at least the server's Retry-After, at most ``cap``.

        Jitter is derived from the row's key and attempt number, so it spreads rows apart yet stays a pure
        function of its inputs.
        """
        exponential = self.base * (1 << min(max(attempts - 1, 0), 30))
        digest = hashlib.blake2b(f"{key}:{attempts}".encode(), digest_size=2).digest()
        spread = 1 + self.jitter * (int.from_bytes(digest, "big") / 0xFFFF * 2 - 1)
        wait = min(exponential * spread, self.cap)
        if retry_after is not None:
            wait = max(wait, timedelta(seconds=retry_after))
        return wait


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """The state of one outbox row (its payload lives beside it, unchanged)."""

    key: str
    status: OutboxStatus
    attempts: int = 0
    next_attempt_at: datetime | None = None
    lease_holder: str | None = None
    lease_expires_at: datetime | None = None
    last_error: str | None = None
    done_at: datetime | None = None


def is_leasable(entry: OutboxEntry, now: datetime) -> bool:
    """Pending rows, retries that fell due, and leases whose holder stopped renewing them."""
    match entry.status:
        case OutboxStatus.PENDING:
            return True
        case OutboxStatus.RETRY:
            return entry.next_attempt_at is None or entry.next_attempt_at <= now
        case OutboxStatus.LEASED:
            return entry.lease_expires_at is not None and entry.lease_expires_at <= now
        case OutboxStatus.DONE | OutboxStatus.DEAD | OutboxStatus.SKIPPED:
            return False


def lease(entry: OutboxEntry, holder: str, now: datetime, ttl: timedelta) -> OutboxEntry:
    """Take the row for ``holder`` until ``now + ttl``. Raises ValueError if it is not leasable."""
    if not is_leasable(entry, now):
        raise ValueError(f"outbox row {entry.key} is {entry.status} and cannot be leased")
    return replace(entry, status=OutboxStatus.LEASED, lease_holder=holder, lease_expires_at=now + ttl)


def release(entry: OutboxEntry) -> OutboxEntry:
    """Give a leased row back untouched (graceful shutdown): no attempt is counted."""
    if entry.status is not OutboxStatus.LEASED:
        return entry
    back = OutboxStatus.RETRY if entry.attempts else OutboxStatus.PENDING
    return replace(entry, status=back, lease_holder=None, lease_expires_at=None)


def record(entry: OutboxEntry, outcome: Outcome, now: datetime, policy: RetryPolicy) -> OutboxEntry:
    """Apply one CRM outcome to a leased row: done, skipped, dead, or retry with backoff (dead when spent)."""
    attempts = entry.attempts + 1
    cleared = replace(entry, attempts=attempts, lease_holder=None, lease_expires_at=None)
    error = _describe(outcome)
    match outcome.status:
        case OutcomeStatus.DONE:
            return replace(cleared, status=OutboxStatus.DONE, done_at=now, last_error=None, next_attempt_at=None)
        case OutcomeStatus.SKIPPED:
            return replace(cleared, status=OutboxStatus.SKIPPED, done_at=now, last_error=error)
        case OutcomeStatus.DEAD:
            return replace(cleared, status=OutboxStatus.DEAD, done_at=now, last_error=error)
        case OutcomeStatus.RETRY:
            if attempts >= policy.max_attempts:
                return replace(
                    cleared,
                    status=OutboxStatus.DEAD,
                    done_at=now,
                    last_error=f"gave up after {attempts} attempts: {error}",
                )
            wait = policy.delay(attempts, entry.key, outcome.retry_after)
            return replace(cleared, status=OutboxStatus.RETRY, next_attempt_at=now + wait, last_error=error)


def postpone(entry: OutboxEntry, now: datetime, delay: timedelta, reason: str) -> OutboxEntry:
    """Put a leased row back to wait ``delay`` for something else to finish, without counting an attempt."""
    if entry.status is not OutboxStatus.LEASED:
        raise ValueError(f"outbox row {entry.key} is {entry.status}; only a leased row can be postponed")
    return replace(
        entry,
        status=OutboxStatus.RETRY,
        next_attempt_at=now + delay,
        lease_holder=None,
        lease_expires_at=None,
        last_error=reason,
    )


def retry_now(entry: OutboxEntry, now: datetime) -> OutboxEntry:
    """An operator's ``outbox retry``: a dead or retrying row becomes due now, with its attempts reset."""
    if entry.status not in (OutboxStatus.DEAD, OutboxStatus.RETRY):
        raise ValueError(f"outbox row {entry.key} is {entry.status}; only dead or retrying rows can be retried")
    return replace(entry, status=OutboxStatus.RETRY, attempts=0, next_attempt_at=now, done_at=None)


def drop(entry: OutboxEntry, now: datetime, reason: str) -> OutboxEntry:
    """An operator's ``outbox drop``: the row is skipped for good, with the operator's reason kept."""
    if entry.status.final:
        raise ValueError(f"outbox row {entry.key} is already {entry.status}")
    return replace(
        entry,
        status=OutboxStatus.SKIPPED,
        done_at=now,
        last_error=f"dropped: {reason}",
        lease_holder=None,
        lease_expires_at=None,
    )


def _describe(outcome: Outcome) -> str | None:
    if outcome.code and outcome.message:
        return f"{outcome.code}: {outcome.message}"
    return outcome.code or outcome.message
