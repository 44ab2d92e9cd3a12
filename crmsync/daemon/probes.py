"""What the daemon tells its operators: readiness checks for ``/readyz`` and gauges refreshed after each cycle.

Readiness (each check returns None when fine, or a short reason):

- ``database``: a ``SELECT 1`` answers;
- ``policy``: the policy file on disk is the one in force (a rejected edit makes the daemon unready, while
  it keeps running on the last good policy, so the rollout stops and an operator looks);
- ``cycle:<connection>``: on a connection this replica leads, the last cycle finished less than
  ``3 × cycle_interval_s`` ago (counted from start-up before the first one). A standby replica is ready.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import func, select, text

from crmsync.clock import Clock
from crmsync.crm.ports import CrmPort
from crmsync.daemon import metrics
from crmsync.daemon.health import Check
from crmsync.outbox.model import OutboxStatus
from crmsync.policy.source import PolicySource
from crmsync.store.repositories import outbox
from crmsync.store.session import Database
from crmsync.store.tables import Base

_LEADS = Base.metadata.tables["leads"]
STALE_FACTOR = 3


def database_check(db: Database) -> Check:
    """``database``: fails when a trivial query does not answer."""

    def run() -> str | None:
        with db.transaction() as session:
            session.execute(text("SELECT 1"))
        return None

    return Check("database", run)


def policy_check(source: PolicySource) -> Check:
    """``policy``: fails while the file on disk is a rejected edit (the last good policy stays in force)."""

    def run() -> str | None:
        source.refresh()
        if source.rejected is None:
            return None
        return f"{source.path} (content {source.rejected}) is invalid; running on the last good policy {source.digest}"

    return Check("policy", run)


def cycle_check(
    connection: str,
    clock: Clock,
    interval_s: float,
    is_leader: Callable[[], bool],
    last_cycle: Mapping[str, datetime],
    started: datetime,
) -> Check:
    """``cycle:<connection>``: fails when this replica leads ``connection`` and its last cycle is stale."""
    limit = timedelta(seconds=STALE_FACTOR * interval_s)

    def run() -> str | None:
        if not is_leader():
            return None
        since = last_cycle.get(connection, started)
        age = clock.now() - since
        if age <= limit:
            return None
        return f"last cycle {age.total_seconds():.0f}s ago (limit {limit.total_seconds():.0f}s)"

    return Check(f"cycle:{connection}", run)


def next_due(db: Database, connection: str) -> datetime | None:
    """The earliest ``due_at`` of ``connection``'s leads (the next instant a lead can change by itself)."""
    with db.transaction() as session:
        query = select(func.min(_LEADS.c.due_at)).where(_LEADS.c.connection == connection)
        found: datetime | None = session.execute(query).scalar_one_or_none()
    return found


class Gauges:
    """Refreshes the figures a cycle does not count itself: outbox depth, budget used, API calls by endpoint."""

    def __init__(self) -> None:
        self._calls_seen: dict[tuple[str, str], int] = {}

    def refresh(self, db: Database, crm: CrmPort) -> None:
        """Read the outbox counts and the port's budget for ``crm``'s connection into the metrics."""
        connection = crm.connection
        with db.transaction() as session:
            counts = outbox.count_by_status(session, connection=connection)
        for status in OutboxStatus:
            metrics.OUTBOX_DEPTH.labels(connection=connection, status=status.value).set(counts.get(status, 0))
        budget = crm.budget()
        fraction = budget.used_fraction
        if fraction is not None:
            metrics.BUDGET_USED.labels(connection=connection).set(fraction)
        for endpoint, calls in budget.calls_by_endpoint.items():
            seen = self._calls_seen.get((connection, endpoint), 0)
            if calls > seen:
                metrics.API_CALLS.labels(connection=connection, endpoint=endpoint).inc(calls - seen)
            self._calls_seen[(connection, endpoint)] = calls
