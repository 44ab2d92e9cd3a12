"""`crmsync run` as a process: SIGTERM during a dispatch exits 0 in time, and across the stop and a restart
every action lands exactly once in the CRM.

The dispatcher honours a stop between groups of one kind (not between the chunks of a group), so the first
daemon usually finishes the group whose update was in flight; what this pins is that the write in flight is
neither lost nor repeated, whatever was left is released, and a restart completes it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
