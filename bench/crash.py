"""Crash safety: SIGKILL `crmsync run` at random points across 200 cycles while the sandbox injects faults.

The sandbox Salesforce runs in this process (its simulated org keeps living: new leads, reps' touches, at 30×
the wall clock, starting three hours behind it) with a fault plan: 10 % of calls answer 5xx, 5 % answer 429, 1 % of the
records in a write fail with ``UNABLE_TO_LOCK_ROW``. ``crmsync run`` (cycle every 0.25 s) is started and,
once it leads (a killed leader's lease must expire first: TTL 1.5 s), killed with SIGKILL after a random 0–4 s,
again and again until 200 cycles have finished across all the processes. A last daemon then drains the
outbox (rows a killed process had leased come back when their lease expires) and is stopped with SIGTERM.
Then:

- ``lost``: outbox rows not in a final state, or dead because of an injected transient fault;
- ``doubled``: owner moves in the CRM beyond the outbox rows that move that lead (an action applied twice);
- ``duplicate_activities``: Tasks crmsync created twice (same external id, or same lead, owner and subject).

    .venv/bin/python bench/crash.py [--cycles 200] [--seed 1]

Last line: ``{"cycles": ..., "kills": ..., "lost": 0, "doubled": 0, "duplicate_activities": 0, ...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
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
from crmsync.sandbox.faults import FaultKind, FaultPlan, FaultRule
from crmsync.sandbox.simulation import SimulationConfig
from crmsync.store import migrate
from crmsync.store.session import Database
from crmsync.store.tables import Base

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "config" / "demo-policy.yaml"
CONNECTION = "sandbox-sf"
MOVES = ("hide", "assign", "reassign", "recycle", "reopen")
FINAL = {"done", "skipped", "dead"}
TRANSIENT = ("UNABLE_TO_LOCK_ROW", "RateLimited", "Retriable", "429", "500", "502", "503")
_OUTBOX = Base.metadata.tables["outbox"]
SPEED = 30
"""Simulated seconds per wall second: new leads and reps' touches keep coming (whole simulated hours)."""


def fault_plan(seed: int) -> FaultPlan:
    """10 % 5xx, 5 % 429 on every Salesforce endpoint; 1 % per-record lock errors in writes."""
    return FaultPlan(
        seed=seed,
        rules=[
            FaultRule(FaultKind.STATUS, endpoint="sf.*", status=503, rate=0.10),
            FaultRule(FaultKind.STATUS, endpoint="sf.*", status=429, rate=0.05),
            FaultRule(FaultKind.RECORD_ERROR, endpoint="sf.composite.*", code="UNABLE_TO_LOCK_ROW", rate=0.01),
        ],
    )


class Watched:
    """The sandbox org, with the owner moves counted per lead (creations are not moves)."""

    def __init__(self, box: Sandbox) -> None:
        self.org = box.orgs[Vendor.SALESFORCE]
        self.moves: Counter[str] = Counter()
        self._owners = {str(r["Id"]): r.get("OwnerId") for r in self.org.rows("Lead")}
        self._lock = threading.Lock()
        self.org.listeners.append(self._on_change)

    def _on_change(self, obj: str, record_id: str, rec: Any) -> None:
        if obj != "Lead":
            return
        with self._lock:
            owner = rec.get("OwnerId")
            if owner is None:  # the simulation deleting a lead (crmsync never clears an owner)
                return
            if record_id not in self._owners:
                self._owners[record_id] = owner
            elif owner != self._owners[record_id]:
                self.moves[record_id] += 1
                self._owners[record_id] = owner

    def duplicate_tasks(self) -> int:
        """crmsync's Tasks (subtype Task) created more than once, by external id or by lead, owner, subject."""
        mine = [t for t in self.org.rows("Task") if t.get("TaskSubtype") == "Task"]
        by_key = Counter(t.get("Crmsync_External_Id__c") for t in mine if t.get("Crmsync_External_Id__c"))
        by_text = Counter((t.get("WhoId"), t.get("OwnerId"), t.get("Subject")) for t in mine)
        return sum(n - 1 for n in by_key.values() if n > 1) + sum(n - 1 for n in by_text.values() if n > 1)


def start_daemon(settings: Path, url: str, log: Path) -> subprocess.Popen[bytes]:
    """``crmsync run`` with JSON logs appended to ``log``."""
    env = {**os.environ, "CRMSYNC_SETTINGS_FILE": str(settings), "CRMSYNC_DATABASE_URL": url,
           "CRMSYNC_POLICY_FILE": str(POLICY), "CRMSYNC_LOG_FORMAT": "json", "CRMSYNC_HEALTH__ENABLED": "false",
           "CRMSYNC_CYCLE_INTERVAL_S": "0.25", "CRMSYNC_LEASE_TTL_S": "1.5", "NO_PROXY": "127.0.0.1",
           "PYTHONUNBUFFERED": "1"}  # fmt: skip
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "crmsync", "run"], env=env, cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT)  # fmt: skip


def wait_for_leadership(log: Path, pid: int, timeout: float) -> None:
    """Return once the daemon ``pid`` logged that it leads (or after ``timeout``)."""
    mark = f":{pid}:"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        if any(mark in line and '"leader": true' in line for line in text.splitlines()[-200:]):
            return
        time.sleep(0.05)


def cycles_logged(log: Path) -> int:
    """``cycle finished`` lines in the log so far."""
    if not log.exists():
        return 0
    return log.read_text(encoding="utf-8", errors="replace").count('"event": "cycle finished"')


def outbox_state(db: Database) -> tuple[dict[str, int], int, Counter[str]]:
    """Rows by status; dead rows caused by transient faults; owner-moving rows per lead."""
    with db.transaction() as session:
        query = select(_OUTBOX.c.status, func.count()).group_by(_OUTBOX.c.status)
        statuses: dict[str, int] = {str(status): int(n) for status, n in session.execute(query).all()}
        dead = [e or "" for (e,) in session.execute(select(_OUTBOX.c.last_error).where(_OUTBOX.c.status == "dead"))]
        movers = session.execute(select(_OUTBOX.c.lead_id).where(_OUTBOX.c.kind.in_(MOVES))).all()
    transient = sum(1 for error in dead if any(mark in error for mark in TRANSIENT))
    return statuses, transient, Counter(lead_id for (lead_id,) in movers)


def start_sandbox(seed: int, workdir: Path) -> tuple[Sandbox, Path]:
    """The faulty sandbox on 127.0.0.1 and a settings file with one connection to it."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    config = SimulationConfig(leads=1500, reps=8, seed=seed, now=now, history_days=4, daily_inflow=2000,
                              vendors=(Vendor.SALESFORCE,))  # fmt: skip
    box = Sandbox(simulation=config, faults=fault_plan(seed), workdir=workdir / "sandbox").start()
    settings = workdir / "settings.json"
    connection = {"name": CONNECTION, "vendor": "salesforce",
                  "salesforce": {"auth": "session", "session_id": box.salesforce_token, "trust_env": False,
                                 "instance_url": box.salesforce_url, "ca_file": str(box.salesforce_ca)}}  # fmt: skip
    settings.write_text(json.dumps({"connections": [connection]}), encoding="utf-8")
    return box, settings


def keep_alive(box: Sandbox, stop: threading.Event) -> None:
    """Advance the simulation at ``SPEED``, never ahead of the wall clock (the daemon's pull would not see it)."""
    started_wall, started_sim = time.monotonic(), box.clock.now()
    while not stop.wait(0.5):
        target = started_sim + timedelta(seconds=SPEED * (time.monotonic() - started_wall))
        box.simulation.advance_to(min(target, datetime.now(UTC) - timedelta(minutes=5)))


def kill_loop(cycles: int, rng: random.Random, start: Callable[[], subprocess.Popen[bytes]], log: Path,
              running: list[subprocess.Popen[bytes]]) -> int:  # fmt: skip
    """Start, let it lead, SIGKILL at a random point; until ``cycles`` cycles are logged. The number of kills."""
    kills = 0
    while cycles_logged(log) < cycles:
        proc = start()
        running[:] = [proc]
        wait_for_leadership(log, proc.pid, timeout=20.0)
        time.sleep(rng.uniform(0.0, 4.0))  # a random point of its cycles: pull, decide or dispatch
        proc.kill()
        proc.wait()
        kills += 1
    return kills


def drain(start: Callable[[], subprocess.Popen[bytes]], db: Database, running: list[subprocess.Popen[bytes]]) -> int:
    """A last daemon until every outbox row is final (leases of killed ones expire first); its exit code."""
    final = start()
    running[:] = [final]
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not set(outbox_state(db)[0]) <= FINAL:
        time.sleep(1.0)
    time.sleep(2.0)
    final.terminate()
    return final.wait(timeout=60)


def run(cycles: int, seed: int, workdir: Path) -> dict[str, Any]:
    """The whole bench; its figures."""
    box, settings = start_sandbox(seed, workdir)
    watched = Watched(box)
    url = f"sqlite:///{workdir / 'crash.db'}"
    migrate.upgrade(url)
    log = workdir / "daemon.log"
    db = Database(url)
    stop_sim = threading.Event()
    threading.Thread(target=keep_alive, args=(box, stop_sim), daemon=True).start()
    running: list[subprocess.Popen[bytes]] = []
    try:
        kills = kill_loop(cycles, random.Random(seed), lambda: start_daemon(settings, url, log), log, running)
        stop_sim.set()
        final_code = drain(lambda: start_daemon(settings, url, log), db, running)
        statuses, transient_dead, targeted = outbox_state(db)
    finally:
        for leftover in running:
            if leftover.poll() is None:
                leftover.kill()
                leftover.wait()
        stop_sim.set()
        db.dispose()
        box.stop()
    not_final = sum(n for status, n in statuses.items() if status not in FINAL)
    doubled = sum(max(0, n - targeted.get(lead, 0)) for lead, n in watched.moves.items())
    return {"cycles": cycles_logged(log), "kills": kills, "lost": not_final + transient_dead, "doubled": doubled,
            "duplicate_activities": watched.duplicate_tasks(), "outbox": statuses, "final_exit": final_code,
            "faults_injected": dict(box.faults.injected)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crmsync-crash-") as folder:
        result = run(args.cycles, args.seed, Path(folder))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
