"""Leader lease per connection: with several replicas on one database, exactly one runs a connection's cycle.

The lease is a row (``leases``, see :mod:`crmsync.store.repositories.coordination`) named
``leader:<connection>`` with a holder and an expiry. A replica takes it when it is free or expired, renews it
every ``ttl / 3`` while alive, and deletes it when it stops, so a clean shutdown hands over at once and a
crash hands over within ``ttl``. Outbox dispatch does not depend on it (rows are claimed with SKIP LOCKED),
so a leader paused past its expiry that wakes up next to the new leader repeats nothing.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import structlog

from crmsync.clock import Clock
from crmsync.store.repositories import coordination
from crmsync.store.session import Database

log = structlog.get_logger(__name__)


def lease_name(connection: str) -> str:
    """The lease row's name for ``connection``'s leadership."""
    return f"leader:{connection}"


class LeaderLease:
    """This replica's claim on one connection's leadership.

    :meth:`hold` takes or renews the lease and says whether we are the leader now; :meth:`release` gives it
    up. ``is_leader`` is the last answer (False after a failed renewal or a database error).
    """

    def __init__(self, db: Database, connection: str, holder: str, clock: Clock, ttl_s: float) -> None:
        self.db, self.connection, self.holder, self.clock = db, connection, holder, clock
        self.name = lease_name(connection)
        self.ttl = timedelta(seconds=ttl_s)
        self._leader = False
        self._lock = threading.Lock()

    @property
    def renew_every_s(self) -> float:
        """How often to call :meth:`hold`: a third of the TTL, so two missed renewals still keep the lease."""
        return self.ttl.total_seconds() / 3

    @property
    def is_leader(self) -> bool:
        """Whether the last :meth:`hold` got (or kept) the lease."""
        return self._leader

    def hold(self) -> bool:
        """Take the lease if free or expired, renew it if ours; True when we lead. Never raises on DB errors."""
        with self._lock:
            try:
                with self.db.transaction(immediate=True) as session:
                    won = coordination.acquire_lease(session, self.name, self.holder, self.clock.now(), self.ttl)
            except Exception as err:  # an unreachable database means we cannot prove leadership: stand down
                log.warning("lease_renewal_failed", connection=self.connection, error=type(err).__name__)
                won = False
            if won != self._leader:
                log.info("leadership_changed", connection=self.connection, leader=won, holder=self.holder)
            self._leader = won
            return won

    def release(self) -> None:
        """Give the lease up (if ours) so another replica can lead at once."""
        with self._lock:
            try:
                with self.db.transaction() as session:
                    released = coordination.release_lease(session, self.name, self.holder)
            except Exception as err:  # on the way out: the lease expires by itself within the TTL
                log.warning("lease_release_failed", connection=self.connection, error=type(err).__name__)
                released = False
            if released:
                log.info("leadership_released", connection=self.connection, holder=self.holder)
            self._leader = False
