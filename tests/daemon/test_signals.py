"""`crmsync run` as a process: SIGTERM during a dispatch exits 0 in time, and across the stop and a restart
every action lands exactly once in the CRM.

The dispatcher honours a stop between groups of one kind (not between the chunks of a group), so the first
daemon usually finishes the group whose update was in flight; what this pins is that the write in flight is
neither lost nor repeated, whatever was left is released, and a restart completes it."""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from crmsync.sandbox.faults import FaultKind, FaultPlan, FaultRule
from crmsync.store import migrate
from crmsync.store.session import Database
from tests.daemon.procs import DaemonProcess, SandboxOrg, audit_keys, lead_writes_audited, outbox_counts

GRACE_S = 10.0


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxOrg]:
    """A sandbox whose Lead updates each take 0.5 s, so a dispatch is in flight long enough to interrupt."""
    slow = FaultPlan(rules=[FaultRule(FaultKind.SLOW, endpoint="sf.composite.update", seconds=0.5)])
    org = SandboxOrg(tmp_path, leads=1500, faults=slow)
    yield org
    org.stop()


def test_sigterm_during_dispatch_loses_and_repeats_nothing(
    sandbox: SandboxOrg, tmp_path: Path, daemons: list[DaemonProcess]
) -> None:
    """SIGTERM while updates are in flight: exit 0 within the grace, no row left leased; a restarted daemon
    drains the rest; each lead got exactly the writes the audit records, and no outbox key landed twice."""
    url = f"sqlite:///{tmp_path / 'crmsync.db'}"
    migrate.upgrade(url)
    settings = sandbox.settings_file(tmp_path / "settings.json")
    env = {"CRMSYNC_SHUTDOWN_GRACE_S": str(GRACE_S)}
    first = DaemonProcess(settings, url, **env)
    daemons.append(first)
    first.wait_for(lambda: sandbox.box.stats["salesforce"].by_endpoint["sf.composite.update"] >= 1)
    code, took = first.terminate()
    assert code == 0, "".join(first.raw[-20:])
    assert took < GRACE_S
    assert first.saw("leadership_released")
    db = Database(url)
    try:
        assert outbox_counts(db).get("leased", 0) == 0
        # The update in flight at SIGTERM landed and was recorded: the CRM's changes are exactly the audit's.
        assert sandbox.lead_changes
        assert sandbox.lead_changes == lead_writes_audited(db)
        second = DaemonProcess(settings, url, **env)
        daemons.append(second)
        second.wait_for(lambda: second.saw("daemon_started"))
        second.wait_for(lambda: set(outbox_counts(db)) <= {"done", "skipped", "dead"}, timeout=120)
        assert second.terminate()[0] == 0
        assert max(audit_keys(db).values()) == 1
        assert sandbox.lead_changes == lead_writes_audited(db)
        assert outbox_counts(db).get("done", 0) > 0
    finally:
        db.dispose()


def test_health_endpoints_of_a_running_daemon(
    sandbox: SandboxOrg, tmp_path: Path, daemons: list[DaemonProcess]
) -> None:
    """A running `crmsync run` serves /healthz, /readyz and /metrics with its real outbox figures."""
    url = f"sqlite:///{tmp_path / 'crmsync.db'}"
    migrate.upgrade(url)
    daemon = DaemonProcess(sandbox.settings_file(tmp_path / "settings.json"), url)
    daemons.append(daemon)
    daemon.wait_for(lambda: daemon.saw("cycle finished"), timeout=90)
    health = next(e["url"] for e in daemon.events if e.get("event") == "health_listening")
    http = requests.Session()
    http.trust_env = False
    assert http.get(f"{health}/healthz", timeout=5).text == "ok\n"
    assert http.get(f"{health}/readyz", timeout=5).status_code == 200
    metrics_text = http.get(f"{health}/metrics", timeout=5).text
    done = re.search(r'crmsync_outbox_rows\{connection="sandbox-sf",status="done"\} (\d+)', metrics_text)
    assert done is not None
    assert int(done.group(1)) > 0
    assert 'crmsync_api_calls_total{connection="sandbox-sf",endpoint=' in metrics_text
    assert daemon.terminate()[0] == 0


@pytest.mark.slow
def test_a_second_signal_exits_at_once_and_corrupts_nothing(
    sandbox: SandboxOrg, tmp_path: Path, daemons: list[DaemonProcess]
) -> None:
    """A second SIGTERM while the first stop waits for an update in flight exits 1 at once; a restarted
    daemon still completes every action exactly once (after the rows the dead process leased expire: 60 s)."""
    url = f"sqlite:///{tmp_path / 'crmsync.db'}"
    migrate.upgrade(url)
    settings = sandbox.settings_file(tmp_path / "settings.json")
    first = DaemonProcess(settings, url)
    daemons.append(first)
    first.wait_for(lambda: sandbox.box.stats["salesforce"].by_endpoint["sf.composite.update"] >= 1)
    first.proc.send_signal(signal.SIGTERM)
    first.wait_for(lambda: first.saw("stop_requested"))
    first.proc.send_signal(signal.SIGTERM)
    assert first.wait(timeout=GRACE_S) == 1
    db = Database(url)
    try:
        second = DaemonProcess(settings, url)
        daemons.append(second)
        second.wait_for(lambda: second.saw("daemon_started"))
        second.wait_for(lambda: set(outbox_counts(db)) <= {"done", "skipped", "dead"}, timeout=120)
        assert second.terminate()[0] == 0
        assert max(audit_keys(db).values()) == 1
        assert sandbox.owner_moves.keys() <= lead_writes_audited(db).keys()
    finally:
        db.dispose()
