"""The daemon's timetable: named jobs on APScheduler 3 triggers, run on an injected clock.

This is the only module that imports APScheduler. It uses APScheduler's triggers (interval, one-off date,
cron) for the calendar arithmetic and runs them in a small loop of its own, because APScheduler 3's
scheduler and executors read the wall clock themselves (``datetime.now`` in ``_process_jobs`` and in
``run_job``'s misfire check), so a :class:`~crmsync.clock.FakeClock` could not drive them. The loop keeps
APScheduler's job semantics:

- ``max_instances=1`` per *instance key*: a job whose key is still running when it falls due is skipped
  (the cycle and the due wake-up of a connection share one key, so they never overlap);
- coalescing: several missed fire times run once;
- misfire grace: a run that starts later than ``misfire_grace_s`` after its fire time is skipped (logged).

Two ways to run it: :meth:`Scheduler.tick` runs what is due at ``clock.now()`` inline and returns, for tests
and the demo (advance a FakeClock, tick, assert); :meth:`Scheduler.run` loops until the stop event, waking at
the next fire time, with jobs submitted to a thread pool so a slow connection does not hold up the others.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crmsync.clock import Clock

log = structlog.get_logger(__name__)

JobFunc = Callable[[], object]
MAX_SLEEP_S = 1.0
"""Longest wait of :meth:`Scheduler.run` between looks at the stop event and the timetable."""


def every(seconds: float, start: datetime) -> BaseTrigger:
    """Fire every ``seconds`` from ``start`` (the first fire is at ``start``)."""
    return IntervalTrigger(seconds=seconds, start_date=start, timezone=UTC)


def once(at: datetime) -> BaseTrigger:
    """Fire once at ``at``."""
    return DateTrigger(run_date=at, timezone=UTC)


def weekly(day_of_week: str = "mon", hour: int = 7) -> BaseTrigger:
    """Fire every week on ``day_of_week`` at ``hour``:00 UTC."""
    return CronTrigger(day_of_week=day_of_week, hour=hour, minute=0, timezone=UTC)


@dataclass(slots=True)
class Job:
    """One scheduled job: what to run, when, and which other jobs it must not overlap (``instance_key``)."""

    name: str
    func: JobFunc
    trigger: BaseTrigger
    instance_key: str
    misfire_grace_s: float
    next_run: datetime | None = None
    runs: int = 0
    skipped: int = 0


@dataclass
class Scheduler:
    """Named jobs on triggers, run when due on ``clock``; see the module docstring for the semantics."""

    clock: Clock
    executor: Executor | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    _jobs: dict[str, Job] = field(default_factory=dict)
    _busy: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(
        self,
        name: str,
        func: JobFunc,
        trigger: BaseTrigger,
        *,
        instance_key: str | None = None,
        misfire_grace_s: float = 30.0,
    ) -> Job:
        """Add (or replace) the job ``name``; its first run is the trigger's first fire time from now."""
        now = self.clock.now()
        job = Job(name, func, trigger, instance_key or name, misfire_grace_s)
        job.next_run = trigger.get_next_fire_time(None, now)
        with self._lock:
            self._jobs[name] = job
        return job

    def remove(self, name: str) -> None:
        """Forget the job ``name`` (a run in progress finishes)."""
        with self._lock:
            self._jobs.pop(name, None)

    def job(self, name: str) -> Job | None:
        """The job ``name``, if scheduled."""
        with self._lock:
            return self._jobs.get(name)

    def next_fire(self) -> datetime | None:
        """The earliest pending fire time over every job (None when nothing is scheduled)."""
        with self._lock:
            times = [j.next_run for j in self._jobs.values() if j.next_run is not None]
        return min(times, default=None)

    def tick(self) -> list[str]:
        """Start every job due at ``clock.now()``; return the names started (inline runs have finished)."""
        now = self.clock.now()
        started: list[str] = []
        for job in self._due(now):
            if self.stop.is_set():
                break
            if self._start(job, now):
                started.append(job.name)
        return started

    def run(self) -> None:
        """Tick until the stop event is set, sleeping until the next fire time (at most ``MAX_SLEEP_S``)."""
        while not self.stop.is_set():
            self.tick()
            upcoming = self.next_fire()
            wait = MAX_SLEEP_S
            if upcoming is not None:
                wait = min(wait, max(0.0, (upcoming - self.clock.now()).total_seconds()))
            if wait > 0:
                self.stop.wait(wait)

    def busy(self) -> list[str]:
        """Instance keys with a run in progress."""
        with self._lock:
            return sorted(self._busy)

    def _due(self, now: datetime) -> list[Job]:
        """Due jobs, earliest first; each job's next fire time moves past ``now`` (coalescing missed ones)."""
        due: list[tuple[datetime, Job]] = []
        with self._lock:
            for job in list(self._jobs.values()):
                if job.next_run is None or job.next_run > now:
                    continue
                fire = job.next_run
                late = (now - fire).total_seconds()
                job.next_run = _after(job.trigger, fire, now)
                if job.next_run is None:
                    del self._jobs[job.name]
                if late > job.misfire_grace_s:
                    job.skipped += 1
                    log.warning("job_misfired", job=job.name, late_s=round(late, 3))
                    continue
                due.append((fire, job))
        return [job for _, job in sorted(due, key=lambda pair: pair[0])]

    def _start(self, job: Job, now: datetime) -> bool:
        with self._lock:
            if job.instance_key in self._busy:
                job.skipped += 1
                log.info("job_still_running", job=job.name, instance=job.instance_key)
                return False
            job.runs += 1
            self._busy.add(job.instance_key)
        if self.executor is None:
            try:
                _call(job)
            finally:
                self._done(job.instance_key)
            return True
        future = self.executor.submit(_call, job)
        future.add_done_callback(lambda _: self._done(job.instance_key))
        return True

    def _done(self, key: str) -> None:
        with self._lock:
            self._busy.discard(key)


def _after(trigger: BaseTrigger, fire: datetime, now: datetime) -> datetime | None:
    """The trigger's first fire time after ``now``, given that it last fired at ``fire`` (coalescing)."""
    following: datetime | None = trigger.get_next_fire_time(fire, now)
    while following is not None and following <= now:
        following = trigger.get_next_fire_time(following, now)
    return following


def _call(job: Job) -> object:
    """Run one job; an exception is logged and swallowed, so one failing job never stops the timetable."""
    try:
        return job.func()
    except Exception as err:  # a job's failure is reported, and the next fire time still comes
        log.exception("job_failed", job=job.name, error=type(err).__name__)
        return None
