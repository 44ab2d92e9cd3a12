"""The daemon: a :class:`~crmsync.runtime.Runtime` put on a timetable, with a leader lease per connection.

Per connection ``c`` the timetable holds:

- ``lease:c`` every ``lease_ttl_s / 3``: take or renew the leader lease;
- ``cycle:c`` every ``cycle_interval_s``: if we lead, reload the policy if it changed, run the cycle
  (pull → decide → enqueue → dispatch), refresh the gauges, and put a one-off ``wake:c`` at the earliest
  ``due_at`` when that comes before the next cycle, so a breach is acted on within one tick of its deadline
  (``wake:c`` shares ``cycle:c``'s instance key: the two never overlap);
- ``capture:c`` every ``capture_interval_s``, only when a :data:`CaptureJob` is given (see below);
- ``report`` weekly (Monday 07:00 UTC) when ``report_dir`` is set: the HTML report of the last seven days.

Shutdown (:meth:`Daemon.shutdown`): the stop event is set, so no job starts and the cycle in flight stops
between chunks and dispatch groups (unapplied outbox rows are released, not counted as attempts); we wait
for it up to the grace, then release every lease so another replica leads at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import structlog

from crmsync.daemon import probes
from crmsync.daemon.health import Check
from crmsync.daemon.lease import LeaderLease
from crmsync.daemon.scheduler import Scheduler, every, once, weekly
from crmsync.runtime import Runtime
from crmsync.sync.cycle import CycleReport

log = structlog.get_logger(__name__)

CaptureJob = Callable[[Runtime, str], object]
"""One capture pass of a connection: ``job(runtime, connection)`` (``crmsync.capture.job.run_capture``).
The daemon schedules it every ``capture_interval_s`` on the connection's leader, only when one is given:
``crmsync run`` gives it when ``capture.sources`` lists any source."""


@dataclass
class Daemon:
    """The long-running shell over one :class:`Runtime`; build with :meth:`create`, then :meth:`start`."""

    runtime: Runtime
    scheduler: Scheduler
    capture: CaptureJob | None = None
    report_dir: Path | None = None
    leases: dict[str, LeaderLease] = field(default_factory=dict)
    last_cycle: dict[str, datetime] = field(default_factory=dict)
    started: datetime | None = None
    gauges: probes.Gauges = field(default_factory=probes.Gauges)

    @classmethod
    def create(cls, runtime: Runtime, *, executor: Executor | None = None, capture: CaptureJob | None = None) -> Daemon:
        """A daemon for every configured connection; ``executor`` None runs jobs inline (tests, the demo)."""
        scheduler = Scheduler(runtime.clock, executor=executor, stop=runtime.stop)
        settings = runtime.settings
        leases = {
            name: LeaderLease(runtime.db, name, runtime.holder, runtime.clock, settings.lease_ttl_s)
            for name in runtime.connection_names
        }
        return cls(runtime, scheduler, capture=capture, report_dir=settings.report_dir, leases=leases)

    @staticmethod
    def pool(runtime: Runtime) -> ThreadPoolExecutor:
        """The thread pool ``crmsync run`` gives the scheduler: room for each connection's jobs at once."""
        return ThreadPoolExecutor(max_workers=3 * len(runtime.connection_names) + 2, thread_name_prefix="crmsync-job")

    # -- timetable ------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Put every job on the timetable (first runs at once); call :meth:`Scheduler.run` or ``tick`` next."""
        settings = self.runtime.settings
        now = self.runtime.clock.now()
        self.started = now
        for name, lease in self.leases.items():
            self.scheduler.add(
                f"lease:{name}", lease.hold, every(lease.renew_every_s, now), misfire_grace_s=lease.renew_every_s
            )
            self.scheduler.add(
                f"cycle:{name}",
                _bind(self.run_cycle, name),
                every(settings.cycle_interval_s, now),
                misfire_grace_s=settings.cycle_interval_s,
            )
            if self.capture is not None:
                self.scheduler.add(
                    f"capture:{name}",
                    _bind(self.run_capture, name),
                    every(settings.capture_interval_s, now),
                    misfire_grace_s=settings.capture_interval_s,
                )
        if self.report_dir is not None:
            self.scheduler.add("report", self.write_report, weekly(), misfire_grace_s=6 * 3600)
        log.info("daemon_started", connections=list(self.leases), holder=self.runtime.holder)

    def run_cycle(self, connection: str) -> CycleReport | None:
        """One cycle of ``connection`` if we lead it (None otherwise, or once stopping)."""
        if self.runtime.stop.is_set() or not self.leases[connection].hold():
            return None
        self.runtime.policy.refresh()
        report = self.runtime.cycle(connection).run()
        self.last_cycle[connection] = self.runtime.clock.now()
        self.gauges.refresh(self.runtime.db, self.runtime.port(connection))
        self._plan_wakeup(connection)
        return report

    def run_capture(self, connection: str) -> object:
        """One capture pass of ``connection`` through the :data:`CaptureJob`, on its leader only."""
        if self.capture is None or self.runtime.stop.is_set() or not self.leases[connection].is_leader:
            return None
        return self.capture(self.runtime, connection)

    def write_report(self) -> Path | None:
        """The weekly HTML report into ``report_dir`` (by the leader of the first connection only)."""
        from crmsync.reports.weekly import write_weekly_report

        first = next(iter(self.leases.values()), None)
        if self.report_dir is None or first is None or not first.is_leader:
            return None
        return write_weekly_report(
            self.runtime.db, self.runtime.policy.current, self.runtime.clock.now(), self.report_dir
        )

    def _plan_wakeup(self, connection: str) -> None:
        """Put ``wake:<connection>`` at the earliest due_at when that comes before the next regular cycle."""
        name = f"wake:{connection}"
        due = probes.next_due(self.runtime.db, connection)
        regular = self.scheduler.job(f"cycle:{connection}")
        if due is None or (regular is not None and regular.next_run is not None and due >= regular.next_run):
            self.scheduler.remove(name)
            return
        at = max(due, self.runtime.clock.now())
        grace = self.runtime.settings.cycle_interval_s
        self.scheduler.add(name, _bind(self.run_cycle, connection), once(at), instance_key=f"cycle:{connection}",
                           misfire_grace_s=grace)  # fmt: skip
        log.debug("wakeup_planned", connection=connection, at=at.isoformat())

    # -- health -----------------------------------------------------------------------------------------------
    def checks(self) -> list[Check]:
        """The readiness checks of ``/readyz``: database, policy, and each led connection's last cycle."""
        found = [probes.database_check(self.runtime.db), probes.policy_check(self.runtime.policy)]
        started = self.started or self.runtime.clock.now()
        interval = self.runtime.settings.cycle_interval_s
        for name, lease in self.leases.items():
            leading: Callable[[], bool] = _leader_probe(lease)
            found.append(probes.cycle_check(name, self.runtime.clock, interval, leading, self.last_cycle, started))
        return found

    # -- shutdown ---------------------------------------------------------------------------------------------
    def shutdown(self, grace_s: float | None = None) -> bool:
        """Stop new work, wait for jobs in flight (up to the grace), release leases; True if all finished."""
        self.runtime.stop.set()
        grace = self.runtime.settings.shutdown_grace_s if grace_s is None else grace_s
        # Real seconds, whatever the runtime's clock: the grace is the operator's (or Kubernetes') patience.
        deadline = time.monotonic() + max(0.0, grace - 1.0)
        while self.scheduler.busy() and time.monotonic() < deadline:
            time.sleep(0.05)
        unfinished = self.scheduler.busy()
        for lease in self.leases.values():
            lease.release()
        log.info("daemon_stopped", unfinished=unfinished, grace_s=grace)
        return not unfinished


def _leader_probe(lease: LeaderLease) -> Callable[[], bool]:
    return lambda: lease.is_leader


def _bind(func: Callable[[str], object], connection: str) -> Callable[[], object]:
    """``func`` with its connection argument fixed (a named closure, so job logs stay readable)."""

    def job() -> object:
        return func(connection)

    job.__name__ = f"{getattr(func, '__name__', 'job')}[{connection}]"
    return job
