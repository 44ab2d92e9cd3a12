"""Bench: a cycle with 100 changed leads on a store of 10,000 leads vs 1,000,000 (bar: ratio <= 1.2).

Each store is a SQLite file in a temporary folder, migrated to the head, then seeded with bulk inserts of
background leads shaped like a mature org: most parked in the holding queue (hidden, recycled), many closed
or converted by reps, a fixed number open with reps and due in the future (the same in both stores, since
open-lead caps bound it), plus history (assignments before today, finished outbox rows, activities). Nothing
in the background is due. A small in-process HubSpot org holds the reps, the holding queue and, for each
measured cycle, 100 new leads (half MQLs waiting in the queue, half non-MQLs owned by reps): the cycle pulls
them, decides them, enqueues and dispatches their actions to the org. The same sequence of cycles runs on
both stores, alternating between them (so a busy machine slows both alike); the medians are compared.
``seconds_*`` are median CPU seconds per cycle (user + system time of the process, which runs SQLite and the
in-process org: the work a cycle costs, unaffected by other processes on a shared machine); ``wall_*`` are
the wall-clock medians, printed beside them.

Run: ``.venv/bin/python bench/cycle_scale.py`` (``--small N --large N --runs N`` to change the sizes).
Last line: ``{"seconds_10k": ..., "seconds_1m": ..., "ratio": ..., "wall_seconds_10k": ..., ...}``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from crmsync.clock import FakeClock
from crmsync.crm.sandbox import InProcessCrm
from crmsync.domain import Vendor
from crmsync.logging import configure_logging
from crmsync.policy.loader import parse_policy
from crmsync.sandbox.mapping import Rep, writer_for
from crmsync.sandbox.simulation import make_org
from crmsync.store import migrate
from crmsync.store.session import Database
from crmsync.store.tables import Base
from crmsync.sync.cycle import Cycle

CONNECTION = "bench"
REPS = 8
OPEN_PER_REP = 30
CHANGED = 100
BATCH = 20_000
START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)

POLICY = """
version: 1
calendar: {{timezone: UTC, workdays: [mon, tue, wed, thu, fri], hours: "09:00-17:00"}}
fields: {{score: hubspotscore}}
qualification:
  mql_when: {{field: score, gte: 60}}
  holding_owner: "queue:Holding Queue"
teams:
  sdr: {{members: {members}, capacity: {{leads_per_day: 100000}}}}
routing:
  - {{name: all, team: sdr, method: least_loaded}}
sla:
  - {{name: std, first_touch: 4h, follow_up: {{touches: 4, within: 5d, max_gap: 2d}}}}
on_breach: {{max_reassignments: 2, recycle: {{status: UNQUALIFIED, reason: No Response}}}}
dispositions:
  closed_statuses: [UNQUALIFIED]
  reasons: [No Response, Not Interested]
  min_touches_before_close: 3
  on_early_close: reopen
"""


@dataclass(frozen=True)
class Timing:
    """One cycle's wall-clock and CPU seconds (user + system of this process: SQLite and the in-process org)."""

    wall: float
    cpu: float


class Floor:
    """One store of ``size`` background leads and its in-process org with reps and a holding queue."""

    def __init__(self, size: int, workdir: Path) -> None:
        self.clock = FakeClock(START)
        self.org = make_org(Vendor.HUBSPOT, self.clock)
        writer = writer_for(self.org)
        past = START - timedelta(days=400)
        reps = [Rep(f"rep{i}", f"Rep{i}", "Bench", f"rep{i}@acme.test", "UTC") for i in range(REPS)]
        self.rep_ids = [writer.add_rep(rep, past) for rep in reps]
        self.queue = writer.add_queue("Holding", past)
        members = json.dumps([rep.email for rep in reps])
        policy = parse_policy(POLICY.format(members=members), "bench.yaml")
        url = f"sqlite:///{workdir / f'store_{size}.db'}"
        migrate.upgrade(url)
        self.db = Database(url)
        crm = InProcessCrm(CONNECTION, self.org, clock=self.clock, fields={"score": "hubspotscore"})
        self.cycle = Cycle(self.db, crm, lambda: policy, self.clock, "bench")
        self.clock.advance(timedelta(minutes=10))
        self.cycle.run()  # pulls the owners: the roster exists before the background is seeded
        started = time.perf_counter()
        seed(self.db, size, self.rep_ids, self.queue, self.clock.now())
        self.seed_seconds = time.perf_counter() - started
        self.made = 0

    def measured_cycle(self) -> Timing:
        """Add 100 leads to the org, let the pull lag pass, and time one full cycle."""
        for _ in range(CHANGED):
            self.made += 1
            mql = self.made % 2 == 0
            owner = self.queue if mql else self.rep_ids[self.made % REPS]
            self.org.create("contacts", {"email": f"new{self.made}@prospect.example", "hubspotscore": 80 if mql else 30,
                                         "hs_lead_status": "OPEN", "hubspot_owner_id": owner,
                                         "lifecyclestage": "lead"})  # fmt: skip
        self.clock.advance(timedelta(minutes=10))
        started, cpu = time.perf_counter(), time.process_time()
        report = self.cycle.run()
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
        if report.decided < CHANGED or report.dispatched is None or report.dispatched.dead:
            raise SystemExit(f"unexpected cycle: decided {report.decided}, dispatched {report.dispatched}")
        return Timing(seconds, cpu_seconds)


def seed(db: Database, size: int, reps: list[str], queue: str, now: datetime) -> None:
    """Bulk-insert ``size`` background leads, with history, none of them due."""
    leads, assignments = Base.metadata.tables["leads"], Base.metadata.tables["assignments"]
    outbox, activities = Base.metadata.tables["outbox"], Base.metadata.tables["activities"]
    open_total = REPS * OPEN_PER_REP
    for start in range(0, size, BATCH):
        ids = range(start, min(size, start + BATCH))
        with db.transaction() as session:
            session.execute(insert(leads), [_lead(i, reps, queue, now, open_total) for i in ids])
            session.execute(insert(assignments), [_assignment(i, reps, queue, now) for i in ids if i % 10 == 0])
            session.execute(insert(outbox), [_outbox(i, now) for i in ids if i % 10 == 0])
            session.execute(insert(activities), [_activity(i, reps, now) for i in ids if i % 10 == 5])


def _lead(i: int, reps: list[str], queue: str, now: datetime, open_total: int) -> dict[str, Any]:
    created = now - timedelta(days=1 + i % 365)
    rep = reps[i % len(reps)]
    row: dict[str, Any] = {
        "connection": CONNECTION, "lead_id": f"bg{i:08d}", "email": f"bg{i}@old.example", "created_at": created,
        "modified_at": created, "converted": False, "deleted": False, "fields": {"hubspotscore": "20"},
        "mql": False, "state": "hidden", "sla_tier": None, "assigned_at": None, "first_touch_at": None,
        "touches_email": 0, "touches_call": 0, "touches_meeting": 0, "last_touch_at": None, "replied_at": None,
        "reply_count": 0, "reassignment_count": 0, "previous_owners": [], "closed_at": None, "disposition": None,
        "due_at": None, "policy_hash": None, "state_extras": {}, "updated_at": created, "owner_id": queue,
        "status": "OPEN",
    }  # fmt: skip
    if i < open_total:  # open with a rep, next due in the future (bounded by open-lead caps in any org)
        row.update(owner_id=reps[i % len(reps)], mql=True, state="working", due_at=now + timedelta(days=3))
    elif i % 10 < 3:  # closed by a rep
        row.update(owner_id=rep, status="UNQUALIFIED", state="closed", closed_at=created, disposition="No Response")
    elif i % 10 == 3:  # converted while with a rep
        row.update(owner_id=rep, converted=True, state="stopped")
    return row


def _assignment(i: int, reps: list[str], queue: str, now: datetime) -> dict[str, Any]:
    return {"connection": CONNECTION, "lead_id": f"bg{i:08d}", "owner_id": reps[i % len(reps)],
            "previous_owner_id": queue, "kind": "route", "rule": "all", "method": "least_loaded", "reason": "seed",
            "candidates": [], "policy_hash": None, "at": now - timedelta(days=1 + i % 365)}  # fmt: skip


def _outbox(i: int, now: datetime) -> dict[str, Any]:
    at = now - timedelta(days=1 + i % 365)
    return {"connection": CONNECTION, "idempotency_key": f"{CONNECTION}/bg{i:08d}:hide:e0", "kind": "hide",
            "lead_id": f"bg{i:08d}", "payload": {}, "priority": 0, "status": "done", "attempts": 1,
            "next_attempt_at": None, "lease_holder": None, "lease_expires_at": None, "last_error": None,
            "created_at": at, "updated_at": at, "done_at": at}  # fmt: skip


def _activity(i: int, reps: list[str], now: datetime) -> dict[str, Any]:
    return {"connection": CONNECTION, "key": f"act{i}", "crm_id": f"act{i}", "lead_id": f"bg{i:08d}",
            "owner_id": reps[i % len(reps)], "channel": "call", "direction": "outbound",
            "occurred_at": now - timedelta(days=1 + i % 365), "source": "crm", "automated": False,
            "duration_minutes": None, "subject": "Call", "logged_at": None}  # fmt: skip


def measure(small: Floor, large: Floor, runs: int) -> tuple[list[Timing], list[Timing]]:
    """Cycle timings of both stores, measured alternately (after one warm-up cycle each), so that the load of a
    shared machine weighs on both alike."""
    small.measured_cycle()
    large.measured_cycle()
    times_small: list[Timing] = []
    times_large: list[Timing] = []
    for _ in range(runs):
        times_small.append(small.measured_cycle())
        times_large.append(large.measured_cycle())
    return times_small, times_large


def _median(timings: list[Timing], kind: str) -> float:
    return statistics.median(t.cpu if kind == "cpu" else t.wall for t in timings)


def main() -> None:
    """Measure both stores and print the JSON figures as the last line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    configure_logging(level="error", fmt="json", stream=sys.stderr)
    workdir = Path(tempfile.mkdtemp(prefix="crmsync-cycle-scale-"))
    try:
        small_floor, large_floor = Floor(args.small, workdir), Floor(args.large, workdir)
        small, large = measure(small_floor, large_floor, args.runs)
        small_seed, large_seed = small_floor.seed_seconds, large_floor.seed_seconds
        small_floor.db.dispose()
        large_floor.db.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for size, timings, seeded in ((args.small, small, small_seed), (args.large, large, large_seed)):
        walls = ", ".join(f"{t.wall:.3f}" for t in timings)
        print(f"store {size:>9,} leads: seeded in {seeded:6.1f}s; cycles (wall s) {walls}")
        print(f"{'':>22} median wall {_median(timings, 'wall'):.3f}s, median CPU {_median(timings, 'cpu'):.3f}s")
    cpu_small, cpu_large = _median(small, "cpu"), _median(large, "cpu")
    wall_small, wall_large = _median(small, "wall"), _median(large, "wall")
    figures = {"seconds_10k": round(cpu_small, 4), "seconds_1m": round(cpu_large, 4),
               "ratio": round(cpu_large / cpu_small, 3), "wall_seconds_10k": round(wall_small, 4),
               "wall_seconds_1m": round(wall_large, 4), "wall_ratio": round(wall_large / wall_small, 3)}  # fmt: skip
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
