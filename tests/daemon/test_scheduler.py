"""The scheduler loop on a fake clock: intervals, one-off jobs, coalescing, misfire grace, one instance at a time."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from crmsync.clock import FakeClock
from crmsync.daemon.scheduler import Scheduler, every, once


def test_interval_job_runs_at_each_fire_time(clock: FakeClock) -> None:
    """An interval job runs at start and again each time its interval has passed, not before."""
    ran: list[object] = []
    scheduler = Scheduler(clock)
    scheduler.add("cycle", lambda: ran.append(clock.now()), every(60, clock.now()))
    start = clock.now()
    assert scheduler.tick() == ["cycle"]
    clock.advance(timedelta(seconds=59))
    assert scheduler.tick() == []
    clock.advance(timedelta(seconds=1))
    assert scheduler.tick() == ["cycle"]
    assert ran == [start, start + timedelta(seconds=60)]


def test_one_off_job_fires_once_at_its_instant(clock: FakeClock) -> None:
    """A one-off job fires at its instant, once, and is then gone from the timetable."""
    scheduler = Scheduler(clock)
    at = clock.now() + timedelta(minutes=7)
    scheduler.add("wake", lambda: None, once(at))
    assert scheduler.next_fire() == at
    clock.advance(timedelta(minutes=6, seconds=59))
    assert scheduler.tick() == []
    clock.set(at)
    assert scheduler.tick() == ["wake"]
    assert scheduler.job("wake") is None
    assert scheduler.next_fire() is None


def test_missed_fire_times_coalesce_into_one_run(clock: FakeClock) -> None:
    """After five missed intervals within the grace, the job runs once and its next fire is in the future."""
    scheduler = Scheduler(clock)
    job = scheduler.add("cycle", lambda: None, every(10, clock.now()), misfire_grace_s=1000)
    scheduler.tick()
    clock.advance(timedelta(seconds=55))
    assert scheduler.tick() == ["cycle"]
    assert job.runs == 2
    assert job.next_run == clock.now() + timedelta(seconds=5)


def test_a_run_later_than_the_misfire_grace_is_skipped(clock: FakeClock) -> None:
    """A fire time older than the misfire grace is skipped (counted), and the job keeps its timetable."""
    scheduler = Scheduler(clock)
    job = scheduler.add("report", lambda: None, once(clock.now() + timedelta(seconds=10)), misfire_grace_s=30)
    clock.advance(timedelta(minutes=5))
    assert scheduler.tick() == []
    assert job.skipped == 1
    assert job.runs == 0


def test_jobs_sharing_an_instance_key_never_overlap(clock: FakeClock) -> None:
    """While the cycle runs in a worker, a due wake-up with the same instance key is skipped, not run twice."""
    release = threading.Event()
    started = threading.Event()

    def slow() -> None:
        started.set()
        release.wait(5)

    with ThreadPoolExecutor(max_workers=2) as pool:
        scheduler = Scheduler(clock, executor=pool)
        scheduler.add("cycle:a", slow, every(60, clock.now()))
        scheduler.add("wake:a", lambda: None, once(clock.now()), instance_key="cycle:a")
        first = scheduler.tick()
        started.wait(5)
        assert first == ["cycle:a"]
        assert scheduler.busy() == ["cycle:a"]
        assert scheduler.job("wake:a") is None
        release.set()


def test_a_failing_job_does_not_stop_the_timetable(clock: FakeClock) -> None:
    """A job that raises is logged; the next due jobs still run and its own next fire stays scheduled."""
    scheduler = Scheduler(clock)

    def broken() -> None:
        raise RuntimeError("boom")

    scheduler.add("broken", broken, every(60, clock.now()))
    ran: list[str] = []
    scheduler.add("fine", lambda: ran.append("fine"), every(60, clock.now()))
    assert sorted(scheduler.tick()) == ["broken", "fine"]
    assert ran == ["fine"]
    broken_job = scheduler.job("broken")
    assert broken_job is not None
    assert broken_job.next_run == clock.now() + timedelta(seconds=60)


def test_stop_prevents_new_runs(clock: FakeClock) -> None:
    """Once the stop event is set, tick starts nothing and run returns at once."""
    scheduler = Scheduler(clock)
    scheduler.add("cycle", lambda: None, every(60, clock.now()))
    scheduler.stop.set()
    assert scheduler.tick() == []
    scheduler.run()
