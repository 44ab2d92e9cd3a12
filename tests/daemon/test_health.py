"""The health server answers liveness, readiness with reasons, and Prometheus metrics with real figures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from crmsync.daemon import metrics
from crmsync.daemon.health import Check, HealthServer


@pytest.fixture
def state() -> dict[str, str | None]:
    """Mutable readiness state the checks read, so a test can break and mend them."""
    return {"database": None, "policy": None}


@pytest.fixture
def server(state: dict[str, str | None]) -> Iterator[HealthServer]:
    """A health server on an ephemeral loopback port with two checks."""
    checks = [Check("database", lambda: state["database"]), Check("policy", lambda: state["policy"])]
    running = HealthServer("127.0.0.1", 0, checks).start()
    yield running
    running.stop()


def _get(server: HealthServer, path: str) -> requests.Response:
    session = requests.Session()
    session.trust_env = False
    return session.get(server.url + path, timeout=5)


def test_healthz_is_ok_while_alive(server: HealthServer) -> None:
    """/healthz answers 200 "ok"."""
    answer = _get(server, "/healthz")
    assert (answer.status_code, answer.text) == (200, "ok\n")


def test_readyz_lists_each_failing_check(server: HealthServer, state: dict[str, str | None]) -> None:
    """/readyz is 200 when all checks pass and 503 naming each failing check and its reason otherwise."""
    assert _get(server, "/readyz").status_code == 200
    state["database"] = "cannot connect"
    state["policy"] = "config/policies.yaml:3:5: teams: unknown key"
    answer = _get(server, "/readyz")
    assert answer.status_code == 503
    assert answer.text.splitlines() == [
        "database: cannot connect",
        "policy: config/policies.yaml:3:5: teams: unknown key",
    ]


def test_a_check_that_raises_makes_the_daemon_unready() -> None:
    """A readiness check that blows up counts as failing rather than crashing the probe."""

    def broken() -> str | None:
        raise RuntimeError("boom")

    probe = HealthServer("127.0.0.1", 0, [Check("database", broken)])
    try:
        assert probe.readiness() == ["database: check failed: RuntimeError"]
    finally:
        probe.stop()


def test_metrics_expose_counters_with_their_values(server: HealthServer) -> None:
    """/metrics serves the Prometheus text format including figures the daemon recorded."""
    metrics.REASSIGNMENTS.labels(connection="health-test").inc(3)
    metrics.OUTBOX_DEPTH.labels(connection="health-test", status="dead").set(2)
    answer = _get(server, "/metrics")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert 'crmsync_reassignments_total{connection="health-test"} 3.0' in answer.text
    assert 'crmsync_outbox_rows{connection="health-test",status="dead"} 2.0' in answer.text


def test_unknown_path_is_404(server: HealthServer) -> None:
    """Anything else is a 404, not a crash."""
    assert _get(server, "/admin").status_code == 404
