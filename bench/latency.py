"""Breach latency: from an SLA deadline to the owner change landing in the sandbox CRM, through the daemon.

Runs the real daemon (scheduler with due wake-ups, leader lease, cycle, dispatcher) on the sandbox's
simulated Salesforce org, in-process, on the simulation's clock, with the default 60 s cycle. Before each
tick it notes the ``due_at`` of every lead that falls due by then; after the tick, each reassignment or
recycle that landed (its audit row) is matched to its lead's deadline. The latency of one is the simulated
time from the deadline to the tick that applied it, plus the real seconds that tick took (the clock is frozen
during a tick, but a real daemon would spend that time). Bar: p99 ≤ one tick (``tick_s``).

    .venv/bin/python bench/latency.py [--days 2] [--seed 1]

Last line: ``{"p99_s": ..., "tick_s": 60.0, ...}`` (also the breach actions the CRM refused for good, which
never land and so have no latency).
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from crmsync.daemon.service import Daemon
from crmsync.demo.runner import CONNECTION, DemoConfig, build_runtime, simulation
from crmsync.logging import configure_logging
from crmsync.runtime import Runtime
from crmsync.store import migrate
from crmsync.store.tables import Base

TICK_S = 60.0
_LEADS = Base.metadata.tables["leads"]
_AUDIT = Base.metadata.tables["audit"]
_OUTBOX = Base.metadata.tables["outbox"]
BREACH_ACTIONS = ("reassign", "recycle")


def _due_by(runtime: Runtime, instant: datetime) -> dict[str, datetime]:
    with runtime.db.transaction() as session:
        query = select(_LEADS.c.lead_id, _LEADS.c.due_at).where(
            _LEADS.c.connection == CONNECTION, _LEADS.c.due_at <= instant
        )
        return {lead_id: due for lead_id, due in session.execute(query).all()}


def _landed_since(runtime: Runtime, last_id: int) -> list[tuple[int, str]]:
    with runtime.db.transaction() as session:
        query = select(_AUDIT.c.id, _AUDIT.c.lead_id).where(_AUDIT.c.id > last_id, _AUDIT.c.action.in_(BREACH_ACTIONS))
        return [(row_id, lead_id) for row_id, lead_id in session.execute(query).all()]


def measure(days: float, seed: int, workdir: Path) -> dict[str, float | int]:
    """Drive the daemon for ``days`` of simulated time; the latency figures."""
    config = DemoConfig(seed=seed, tick_s=TICK_S, leads=300, history_days=7, daily_inflow=60)
    sim = simulation(config)
    url = f"sqlite:///{workdir / 'latency.db'}"
    migrate.upgrade(url)
    runtime = build_runtime(config, url, sim, workdir)
    daemon = Daemon.create(runtime)
    daemon.start()
    end = sim.now + timedelta(days=days)
    latencies: list[float] = []
    last_id, ticks = 0, 0
    while sim.now < end:
        upcoming = daemon.scheduler.next_fire() or end
        sim.advance_to(max(upcoming, sim.now))
        deadlines = _due_by(runtime, sim.now)
        started = time.perf_counter()
        daemon.scheduler.tick()
        spent = time.perf_counter() - started
        ticks += 1
        for row_id, lead_id in _landed_since(runtime, last_id):
            last_id = max(last_id, row_id)
            if lead_id in deadlines:
                latencies.append((sim.now - deadlines[lead_id]).total_seconds() + spent)
    daemon.shutdown(grace_s=1.0)
    with runtime.db.transaction() as session:
        refused = session.execute(
            select(func.count()).where(_OUTBOX.c.kind.in_(BREACH_ACTIONS), _OUTBOX.c.status == "dead")
        ).scalar_one()
    runtime.close()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, math.ceil(0.99 * len(latencies)) - 1)] if latencies else math.nan
    return {
        "p99_s": round(p99, 3),
        "tick_s": TICK_S,
        "max_s": round(max(latencies, default=math.nan), 3),
        "breaches_applied": len(latencies),
        "breaches_refused_by_crm": refused,
        "ticks": ticks,
        "days": days,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    configure_logging("warning", "console")
    with tempfile.TemporaryDirectory(prefix="crmsync-latency-") as folder:
        result = measure(args.days, args.seed, Path(folder))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
