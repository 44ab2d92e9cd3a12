"""The daemon on the in-process sandbox and a fake clock: cycles, due wake-ups, the leader lease, health."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from crmsync.daemon import metrics
from crmsync.daemon.health import HealthServer
from crmsync.daemon.probes import next_due
from crmsync.daemon.service import Daemon
from crmsync.demo.runner import CONNECTION, DemoConfig, build_runtime, simulation
from crmsync.runtime import Runtime
from crmsync.sandbox.simulation import Simulation
from crmsync.store import migrate
from crmsync.store.repositories import coordination

SMALL = DemoConfig(leads=60, history_days=3, daily_inflow=30, tick_s=3600.0)


@pytest.fixture
def world(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Simulation, Runtime]]:
    """A small simulated org and a runtime on a fresh SQLite database over it (hourly cycles unless the test
    is parametrized with another DemoConfig)."""
    config: DemoConfig = getattr(request, "param", SMALL)
    sim = simulation(config)
    url = f"sqlite:///{tmp_path / 'daemon.db'}"
    migrate.upgrade(url)
    runtime = build_runtime(config, url, sim, tmp_path)
    yield sim, runtime
    runtime.close()


def test_first_tick_takes_the_lease_and_runs_a_cycle(world: tuple[Simulation, Runtime]) -> None:
    """The first tick makes this replica leader and runs a cycle that enqueues and applies actions."""
    sim, runtime = world
    daemon = Daemon.create(runtime)
    daemon.start()
    started = daemon.scheduler.tick()
    assert f"cycle:{CONNECTION}" in started
    assert daemon.leases[CONNECTION].is_leader
    assert daemon.last_cycle[CONNECTION] == sim.now
    with runtime.db.transaction() as session:
        assert coordination.lease_holder(session, f"leader:{CONNECTION}", sim.now) == runtime.holder


@pytest.mark.parametrize("world", [replace(SMALL, tick_s=86_400.0)], indirect=True, ids=["daily-cycles"])
def test_due_wakeup_fires_at_the_earliest_due_at(world: tuple[Simulation, Runtime]) -> None:
    """After a cycle, a one-off wake-up sits at the earliest due_at before the next cycle and runs a cycle then."""
    sim, runtime = world
    daemon = Daemon.create(runtime)
    daemon.start()
    daemon.scheduler.tick()
    due = next_due(runtime.db, CONNECTION)
    regular = daemon.scheduler.job(f"cycle:{CONNECTION}")
    assert due is not None
    assert regular is not None
    assert regular.next_run is not None
    assert due < regular.next_run, "first-touch deadlines fall inside the day"
    wake = daemon.scheduler.job(f"wake:{CONNECTION}")
    assert wake is not None
    assert wake.next_run == max(due, sim.now)
    at = wake.next_run
    sim.advance_to(at - timedelta(seconds=1))
    assert daemon.scheduler.tick() == []
    sim.advance_to(at)
    assert f"wake:{CONNECTION}" in daemon.scheduler.tick()
    assert daemon.last_cycle[CONNECTION] == at


def test_only_one_of_two_replicas_leads_and_the_other_takes_over_after_release(
    world: tuple[Simulation, Runtime],
) -> None:
    """Two daemons on one database: one leads and cycles; after it stops, the other leads at its next renewal."""
    sim, runtime = world
    other = replace(runtime, holder="replica-b", stop=threading.Event(), _ports=dict(runtime._ports))
    first, second = Daemon.create(runtime), Daemon.create(other)
    first.start()
    second.start()
    first.scheduler.tick()
    second.scheduler.tick()
    assert first.leases[CONNECTION].is_leader
    assert not second.leases[CONNECTION].is_leader
    assert CONNECTION not in second.last_cycle
    first.shutdown(grace_s=1.0)
    sim.advance_to(sim.now + timedelta(seconds=runtime.settings.lease_ttl_s / 3))
    second.scheduler.tick()
    assert second.leases[CONNECTION].is_leader


def test_readiness_and_metrics_report_real_figures(world: tuple[Simulation, Runtime]) -> None:
    """/readyz passes after a cycle and fails once the last cycle is older than 3 intervals; /metrics has the
    outbox depth by status and the API calls the cycle made."""
    sim, runtime = world
    daemon = Daemon.create(runtime)
    daemon.start()
    daemon.scheduler.tick()
    server = HealthServer("127.0.0.1", 0, daemon.checks()).start()
    http = requests.Session()
    http.trust_env = False
    try:
        assert http.get(server.url + "/readyz", timeout=5).status_code == 200
        body = http.get(server.url + "/metrics", timeout=5).text
        done = metrics.OUTBOX_DEPTH.labels(connection=CONNECTION, status="done")._value.get()
        assert done > 0
        assert f'crmsync_outbox_rows{{connection="{CONNECTION}",status="done"}} {done}' in body
        assert f'crmsync_api_calls_total{{connection="{CONNECTION}",endpoint="apply"}}' in body
        sim.clock.advance(timedelta(seconds=3 * runtime.settings.cycle_interval_s + 1))
        answer = http.get(server.url + "/readyz", timeout=5)
        assert answer.status_code == 503
        assert answer.text.startswith(f"cycle:{CONNECTION}: last cycle")
    finally:
        server.stop()


def test_shutdown_releases_the_lease(world: tuple[Simulation, Runtime]) -> None:
    """A clean shutdown deletes this replica's lease, so another replica can lead at once."""
    sim, runtime = world
    daemon = Daemon.create(runtime)
    daemon.start()
    daemon.scheduler.tick()
    assert daemon.shutdown(grace_s=1.0)
    with runtime.db.transaction() as session:
        assert coordination.lease_holder(session, f"leader:{CONNECTION}", sim.now) is None
    assert daemon.scheduler.tick() == []


def test_capture_job_runs_on_the_leader_at_its_interval(world: tuple[Simulation, Runtime]) -> None:
    """A given capture job is called with (runtime, connection) on the leader, every capture_interval_s."""
    sim, runtime = world
    calls: list[tuple[Runtime, str, object]] = []
    daemon = Daemon.create(runtime, capture=lambda rt, name: calls.append((rt, name, sim.now)))
    daemon.start()
    start = sim.now
    daemon.scheduler.tick()
    assert calls == [(runtime, CONNECTION, start)]
    sim.advance_to(start + timedelta(seconds=runtime.settings.capture_interval_s - 1))
    daemon.scheduler.tick()
    assert len(calls) == 1
    sim.advance_to(start + timedelta(seconds=runtime.settings.capture_interval_s))
    daemon.scheduler.tick()
    assert calls[-1] == (runtime, CONNECTION, sim.now)
    assert len(calls) == 2
