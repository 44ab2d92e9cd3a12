"""The demo: the same simulated sales floor twice, without crmsync and with the real daemon code.

Both runs build the sandbox's simulated Salesforce org from the same seed (reps with personalities:
diligent, cherry-pickers, overloaded, one on leave), then simulate the same period. "Without" only advances
the simulation. "With" runs :class:`~crmsync.daemon.service.Daemon` — the scheduler, leader lease, cycle
(pull → decide → enqueue → dispatch), due wake-ups — on SQLite in the output folder, through the in-process
sandbox port, on the simulation's :class:`~crmsync.clock.FakeClock`: the loop advances the simulation to the
scheduler's next fire time and ticks it, so time is accelerated but every job fires when it would.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from crmsync.crm.config import ConnectionSettings
from crmsync.crm.sandbox import InProcessCrm
from crmsync.daemon.service import Daemon
from crmsync.demo.outcome import Outcome, measure
from crmsync.domain import Vendor
from crmsync.policy import Policy
from crmsync.policy.source import PolicySource
from crmsync.runtime import Runtime
from crmsync.sandbox.simulation import Simulation, SimulationConfig
from crmsync.settings import Settings
from crmsync.store import migrate
from crmsync.store.session import Database
from crmsync.store.tables import Base

CONNECTION = "sandbox-sf"
_CHECKOUT_POLICY = Path(__file__).resolve().parents[2] / "config" / "demo-policy.yaml"
DEMO_POLICY = _CHECKOUT_POLICY if _CHECKOUT_POLICY.is_file() else Path("config") / "demo-policy.yaml"
"""The source checkout's demo policy, else ``config/demo-policy.yaml`` under the working directory (the image)."""
Progress = Callable[[str, float], None]
"""``progress(phase, fraction)``: called as each run advances (fraction 0..1 of the simulated period)."""

_AUDIT = Base.metadata.tables["audit"]
_ASSIGNMENTS = Base.metadata.tables["assignments"]


@dataclass(frozen=True)
class DemoConfig:
    """What to simulate: ``weeks`` after a ``history_days`` warm-up, ``leads`` already in the org."""

    weeks: float = 3.0
    seed: int = 1
    leads: int = 400
    reps: int = 8
    history_days: int = 21
    daily_inflow: int = 40
    tick_s: float = 900.0
    policy_file: Path = DEMO_POLICY


@dataclass
class DemoResult:
    """Both runs' figures, and where the with-crmsync database and report are."""

    without: Outcome
    with_crmsync: Outcome
    database: Path
    report: Path | None
    cycles: int


def simulation(config: DemoConfig) -> Simulation:
    """The seeded org both runs start from (Salesforce only)."""
    return Simulation(
        SimulationConfig(leads=config.leads, reps=config.reps, seed=config.seed, history_days=config.history_days,
                         daily_inflow=config.daily_inflow, vendors=(Vendor.SALESFORCE,))
    )  # fmt: skip


def run_without(config: DemoConfig, policy: Policy, progress: Progress) -> Outcome:
    """Simulate the period with the org alone; its figures."""
    sim = simulation(config)
    start = sim.now
    end = start + timedelta(weeks=config.weeks)
    step = timedelta(hours=6)
    while sim.now < end:
        sim.advance_to(min(end, sim.now + step))
        progress("without crmsync", (sim.now - start) / (end - start))
    return _measure(sim, policy, start)


def run_with(config: DemoConfig, out: Path, progress: Progress) -> tuple[Outcome, Path | None, int]:
    """Simulate the period with the daemon running on it; its figures, the HTML report and the cycle count."""
    sim = simulation(config)
    database = out / "crmsync-demo.db"
    database.unlink(missing_ok=True)
    url = f"sqlite:///{database}"
    migrate.upgrade(url)
    runtime = build_runtime(config, url, sim, out)
    daemon = Daemon.create(runtime)
    start = sim.now
    end = start + timedelta(weeks=config.weeks)
    cycles = 0
    try:
        daemon.start()
        while sim.now < end and not runtime.stop.is_set():
            upcoming = daemon.scheduler.next_fire() or end
            sim.advance_to(min(end, max(upcoming, sim.now)))
            cycles += sum(1 for name in daemon.scheduler.tick() if name.startswith(("cycle:", "wake:")))
            progress("with crmsync", (sim.now - start) / (end - start))
        report = _report(runtime, out)
        outcome = _measure(sim, runtime.policy.current, start)
        _add_actions(outcome, runtime.db)
    finally:
        daemon.shutdown(grace_s=1.0)
        runtime.close()
    return outcome, report, cycles


def build_runtime(config: DemoConfig, url: str, sim: Simulation, out: Path) -> Runtime:
    """A runtime on ``url`` whose one connection is the in-process port over ``sim``'s Salesforce org."""
    connection = ConnectionSettings.model_validate(
        {"name": CONNECTION, "vendor": "salesforce",
         "salesforce": {"auth": "session", "session_id": "in-process", "instance_url": "https://127.0.0.1"}}
    )  # fmt: skip
    settings = Settings(
        database_url=url, policy_file=config.policy_file, cycle_interval_s=config.tick_s,
        lease_ttl_s=3 * config.tick_s, report_dir=out, connections=[connection],
    )  # fmt: skip
    policy = PolicySource(config.policy_file)
    runtime = Runtime(settings, Database(url), policy, clock=sim.clock, holder="demo")
    org = sim.orgs[Vendor.SALESFORCE]
    runtime.add_port(InProcessCrm(CONNECTION, org, clock=sim.clock, fields=policy.current.fields.as_mapping()))
    return runtime


def _report(runtime: Runtime, out: Path) -> Path | None:
    from crmsync.reports.weekly import write_weekly_report

    return write_weekly_report(runtime.db, runtime.policy.current, runtime.clock.now(), out)


def _measure(sim: Simulation, policy: Policy, since: datetime) -> Outcome:
    world = sim.worlds[Vendor.SALESFORCE]
    reps = sim.config.reps
    # The org's assignment rule gives leads round robin in creation order, the same in both runs.
    first_owner = {lead_id: world.rep_ids[i % reps] for i, lead_id in enumerate(world.ids)}
    names = {rid: rep.key for rid, (rep, _) in zip(world.rep_ids, world.reps, strict=True)}
    attractive = {lead_id: bool(world.picky_ok[i]) for i, lead_id in enumerate(world.ids)}
    outcome = measure(sim.orgs[Vendor.SALESFORCE], policy, since, first_owner, names, attractive)
    outcome.cherry_pick = {f"{k} ({sim.personalities[k].value})": v for k, v in outcome.cherry_pick.items()}
    return outcome


def _add_actions(outcome: Outcome, db: Database) -> None:
    """Reassignments and recycles that landed in the CRM (audit), with the recycles' reasons (history)."""
    with db.transaction() as session:
        landed = Counter(
            action for (action,) in session.execute(select(_AUDIT.c.action).where(_AUDIT.c.connection == CONNECTION))
        )
        reasons = Counter(
            reason or "(none)"
            for (reason,) in session.execute(select(_ASSIGNMENTS.c.reason).where(_ASSIGNMENTS.c.kind == "recycle"))
        )
    outcome.reassignments = landed.get("reassign", 0)
    outcome.recycled = landed.get("recycle", 0)
    outcome.recycle_reasons = dict(reasons.most_common())


def run_demo(config: DemoConfig, out: Path, progress: Progress) -> DemoResult:
    """Both runs; the database and the HTML report are left in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    policy = PolicySource(config.policy_file).current
    without = run_without(config, policy, progress)
    with_crmsync, report, cycles = run_with(config, out, progress)
    return DemoResult(without, with_crmsync, out / "crmsync-demo.db", report, cycles)
