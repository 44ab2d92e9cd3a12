"""Helpers for tests that run `crmsync run` as a real process against an in-process sandbox served over HTTP.

:class:`SandboxOrg` starts the sandbox Salesforce server in this process (so the test can read the org and
count every change crmsync makes to a lead) and writes the settings file a daemon needs. :class:`DaemonProcess`
starts ``crmsync run`` with those settings, reads its JSON log lines, and stops or kills it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from crmsync.domain import Vendor
from crmsync.sandbox.facade import Sandbox
from crmsync.sandbox.faults import FaultPlan
from crmsync.sandbox.simulation import SimulationConfig
from crmsync.store.session import Database
from crmsync.store.tables import Base

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "config" / "demo-policy.yaml"
CONNECTION = "sandbox-sf"
_OUTBOX = Base.metadata.tables["outbox"]
_AUDIT = Base.metadata.tables["audit"]


class SandboxOrg:
    """A seeded sandbox Salesforce on 127.0.0.1 whose simulated present is the current hour (time frozen)."""

    def __init__(self, workdir: Path, *, leads: int = 120, faults: FaultPlan | None = None, seed: int = 2) -> None:
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
        config = SimulationConfig(leads=leads, reps=8, seed=seed, now=now, history_days=4, daily_inflow=20,
                                  vendors=(Vendor.SALESFORCE,))  # fmt: skip
        self.box = Sandbox(simulation=config, faults=faults, workdir=workdir / "sandbox").start()
        self.org = self.box.orgs[Vendor.SALESFORCE]
        self.lead_changes: Counter[str] = Counter()
        self.owner_moves: Counter[str] = Counter()
        self._owners = {str(r["Id"]): r.get("OwnerId") for r in self.org.rows("Lead")}
        self._lock = threading.Lock()
        self.org.listeners.append(self._count)

    def _count(self, obj: str, record_id: str, rec: Any) -> None:
        """Count every write to a lead, and separately the writes that changed its owner."""
        if obj == "Lead":
            with self._lock:
                self.lead_changes[record_id] += 1
                owner = rec.get("OwnerId")
                if owner is not None and owner != self._owners.get(record_id):
                    self.owner_moves[record_id] += 1
                    self._owners[record_id] = owner

    def settings_file(self, path: Path) -> Path:
        """Write a settings file with one session-authenticated connection to this sandbox."""
        connection = {"name": CONNECTION, "vendor": "salesforce",
                      "salesforce": {"auth": "session", "session_id": self.box.salesforce_token,
                                     "instance_url": self.box.salesforce_url, "ca_file": str(self.box.salesforce_ca),
                                     "trust_env": False}}  # fmt: skip
        path.write_text(json.dumps({"connections": [connection]}), encoding="utf-8")
        return path

    def stop(self) -> None:
        """Stop the servers."""
        self.box.stop()


class DaemonProcess:
    """``crmsync run`` in a subprocess; its stdout JSON log lines are collected by a reader thread."""

    def __init__(self, settings_file: Path, database_url: str, **env: str) -> None:
        environ = {**os.environ, "CRMSYNC_SETTINGS_FILE": str(settings_file), "CRMSYNC_DATABASE_URL": database_url,
                   "CRMSYNC_POLICY_FILE": str(POLICY), "CRMSYNC_LOG_FORMAT": "json", "CRMSYNC_HEALTH__PORT": "0",
                   "CRMSYNC_CYCLE_INTERVAL_S": "1", "NO_PROXY": "127.0.0.1", "PYTHONUNBUFFERED": "1",
                   **env}  # fmt: skip
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "crmsync", "run"], env=environ, cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.events: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.raw.append(line)
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(event, dict):
                self.events.append(event)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 60.0) -> None:
        """Poll ``predicate`` until true; AssertionError with the log tail on timeout or early exit."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited {self.proc.returncode}:\n{''.join(self.raw[-30:])}")
            time.sleep(0.05)
        raise AssertionError(f"timed out; daemon log tail:\n{''.join(self.raw[-30:])}")

    def saw(self, event: str, **fields: object) -> bool:
        """Whether the daemon logged ``event`` with ``fields``."""
        return any(e.get("event") == event and all(e.get(k) == v for k, v in fields.items()) for e in self.events)

    def terminate(self, timeout: float = 30.0) -> tuple[int, float]:
        """SIGTERM, wait; (exit code, seconds it took)."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        took = time.monotonic() - started
        self._close()
        return code, took

    def wait(self, timeout: float) -> int:
        """Wait for the process to exit by itself; its exit code."""
        code = self.proc.wait(timeout=timeout)
        self._close()
        return code

    def kill(self) -> None:
        """SIGKILL and reap."""
        self.proc.kill()
        self.proc.wait(timeout=10)
        self._close()

    def _close(self) -> None:
        self._reader.join(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def outbox_counts(db: Database) -> dict[str, int]:
    """Outbox rows by status."""
    with db.transaction() as session:
        return dict(session.execute(select(_OUTBOX.c.status, func.count()).group_by(_OUTBOX.c.status)).all())


def lead_writes_audited(db: Database) -> Counter[str]:
    """Per lead, how many owner/field writes crmsync recorded as landed (one audit row per applied action)."""
    with db.transaction() as session:
        rows = session.execute(
            select(_AUDIT.c.lead_id).where(_AUDIT.c.action.not_in(["createtask", "logactivity"]))
        ).all()
    return Counter(lead_id for (lead_id,) in rows)


def audit_keys(db: Database) -> Counter[str]:
    """How many audit rows each outbox key has (1 each when nothing was applied twice)."""
    with db.transaction() as session:
        return Counter(key for (key,) in session.execute(select(_AUDIT.c.outbox_key)).all())
