"""One cycle of one connection: pull → derive → decide → enqueue → dispatch.

Its cost follows the changed and due leads, never the org's size: pull marks what it stored as due, and the
cycle reads only ``due_at <= now`` (an index), in chunks. Each chunk's new lead states, assignment history,
routing pointers and outbox rows commit in one transaction, so a crash repeats a chunk at worst, and the
outbox's idempotency keys make the repeat enqueue nothing twice. Only the connection's leader runs it (see
``crmsync.daemon.lease``); ``plan`` runs the same code and writes nothing but the pulled snapshot.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import structlog
from sqlalchemy.orm import Session

from crmsync.clock import Clock
from crmsync.crm.factory import PULL_LAG
from crmsync.crm.ports import CrmPort
from crmsync.daemon import metrics
from crmsync.domain import Activity, Lead, Reassign, Recycle
from crmsync.engine import Batch, Decision, EnginePolicy, LeadState, Phase, decide_all, derive, prepare
from crmsync.outbox.dispatcher import Dispatcher, DispatchReport, wrap_payload
from crmsync.policy import Policy
from crmsync.store.repositories import activities as activity_rows
from crmsync.store.repositories import coordination, history, leads, outbox
from crmsync.store.repositories.history import AssignmentEntry
from crmsync.store.repositories.leads import StateUpdate, StoredLead
from crmsync.store.repositories.outbox import NewOutboxRow
from crmsync.store.session import Database
from crmsync.store.tables import AssignmentKind
from crmsync.sync.pull import PullReport, pull
from crmsync.sync.roster import load_roster

log = structlog.get_logger(__name__)

WAIT_RECHECK = timedelta(minutes=15)
"""How often an MQL waiting for capacity (with no eligibility time in sight) is routed again."""

CHUNK = 500
MAX_SKIPS = 100
"""Leads decided per transaction: large enough to amortise round trips, small enough to bound memory."""

PolicyProvider = Callable[[], Policy]


@dataclass(slots=True)
class CycleReport:
    """What one cycle did, for the summary log line, metrics and ``crmsync apply``.

    ``skips`` holds (lead id, reason) of the first :data:`MAX_SKIPS` leads that could not be decided (each one is
    also logged and counted in a metric); ``skipped`` counts them all.
    """

    connection: str
    pulled: PullReport | None = None
    decided: int = 0
    actions: int = 0
    enqueued: int = 0
    skipped: int = 0
    overflow: int = 0
    problems: list[str] = field(default_factory=list)
    skips: list[tuple[str, str]] = field(default_factory=list)
    dispatched: DispatchReport | None = None
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Cycle:
    """Everything a cycle needs; build one per connection and call :meth:`run` on each tick."""

    db: Database
    crm: CrmPort
    policy: PolicyProvider
    clock: Clock
    holder: str
    stop: threading.Event = field(default_factory=threading.Event)
    chunk: int = CHUNK
    lag: timedelta = PULL_LAG

    def run(self, *, do_pull: bool = True, do_dispatch: bool = True) -> CycleReport:
        """Run one cycle and log its summary line; raises only what the connection cannot survive."""
        started = time.perf_counter()
        report = CycleReport(self.crm.connection)
        if do_pull:
            report.pulled = self._pull()
        policy = self.policy()
        for batch in self._decide(policy, self.clock.now()):
            self._persist(batch, policy, report)
        if do_dispatch and not self.stop.is_set():
            report.dispatched = self.dispatcher().run()
        report.seconds = time.perf_counter() - started
        self._observe(report)
        return report

    def plan(self, *, do_pull: bool = True) -> list[Decision]:
        """The decisions a cycle would take now, without saving or enqueueing anything (``crmsync plan``)."""
        if do_pull:
            self._pull()
        return [d for batch in self._decide(self.policy(), self.clock.now()) for d in batch.decisions]

    def decide_lead(self, lead_id: str) -> Decision | None:
        """What a cycle would decide about one stored lead now (``crmsync explain``); None if it is not stored.

        Writes nothing; the roster is the one a cycle would load now.
        """
        connection = self.crm.connection
        policy = self.policy()
        now = self.clock.now()
        with self.db.transaction() as session:
            items = _derive_chunk(session, connection, [lead_id], prepare(policy), now)
            if not items:
                return None
            roster, _ = load_roster(session, connection, policy, now)
        return decide_all(items, roster, prepare(policy), now).decisions[0]

    def dispatcher(self) -> Dispatcher:
        """The dispatcher for this connection, sharing the cycle's stop event."""
        return Dispatcher(self.db, self.crm, self.clock, self.holder, touched_since=self._touched_since, stop=self.stop)

    def _pull(self) -> PullReport:
        return pull(self.db, self.crm, self.clock, lag=self.lag)

    def _decide(self, policy: Policy, now: datetime) -> Iterable[Batch]:
        """Decide every due lead in chunks, carrying the roster (loads, pointers) from chunk to chunk."""
        connection = self.crm.connection
        with self.db.transaction() as session:
            due = leads.due_lead_ids(session, connection, now)
            if not due:
                return
            roster, unresolved = load_roster(session, connection, policy, now)
        for name in unresolved:
            log.error("holding owner not found in the CRM", connection=connection, holding_owner=name)
        engine_policy = prepare(policy)
        for start in range(0, len(due), self.chunk):
            if self.stop.is_set():
                return
            with self.db.transaction() as session:
                items = _derive_chunk(session, connection, due[start : start + self.chunk], engine_policy, now)
            batch = decide_all(items, roster, engine_policy, now)
            roster = batch.roster
            yield batch

    def _persist(self, batch: Batch, policy: Policy, report: CycleReport) -> None:
        now = self.clock.now()
        connection = self.crm.connection
        rows = [row for d in batch.decisions for row in _outbox_rows(d)]
        with self.db.transaction() as session:
            leads.save_lead_states(session, [_state_update(d, now) for d in batch.decisions], now)
            history.append_assignments(session, [e for d in batch.decisions for e in _assignments(d, now)])
            added = _enqueue(session, rows, now)
            for team, position in batch.roster.pointers.items():
                coordination.set_routing_pointer(session, connection, team, position)
        report.decided += len(batch.decisions)
        report.actions += batch.actions
        report.enqueued += added
        report.skipped += batch.skipped
        report.overflow += batch.overflow
        report.problems.extend(p for p in batch.problems if p not in report.problems)
        for decision in batch.decisions:
            _count(connection, decision)
            if decision.skipped is not None:
                log.warning(
                    "lead skipped", connection=connection, lead_id=decision.lead.lead_id, reason=decision.skipped
                )
                if len(report.skips) < MAX_SKIPS:
                    report.skips.append((decision.lead.lead_id, decision.skipped))

    def _touched_since(self, lead_ids: Sequence[str], since: datetime) -> set[str]:
        with self.db.transaction() as session:
            stored = {
                s.lead.ref.lead_id: s.lead.owner_id for s in leads.leads_by_ids(session, self.crm.connection, lead_ids)
            }
            found: set[str] = set()
            for activity, _ in activity_rows.activities_for_leads(session, self.crm.connection, lead_ids):
                if (
                    activity.is_touch
                    and activity.occurred_at > since
                    and activity.owner_id == stored.get(activity.lead_id)
                ):
                    found.add(activity.lead_id)
        return found

    def _observe(self, report: CycleReport) -> None:
        connection = self.crm.connection
        metrics.CYCLE_SECONDS.labels(connection=connection).observe(report.seconds)
        metrics.LAST_CYCLE.labels(connection=connection).set(time.time())
        d = report.dispatched
        log.info(
            "cycle finished",
            connection=connection,
            seconds=round(report.seconds, 3),
            pulled_leads=report.pulled.leads if report.pulled else 0,
            pulled_activities=report.pulled.activities if report.pulled else 0,
            decided=report.decided,
            actions=report.actions,
            enqueued=report.enqueued,
            skipped=report.skipped,
            overflow=report.overflow,
            problems=report.problems[:5],
            applied=d.done if d else 0,
            retry=d.retry if d else 0,
            dead=d.dead if d else 0,
            premise_skipped=d.skipped if d else 0,
        )


def _derive_chunk(
    session: Session, connection: str, ids: Sequence[str], policy: EnginePolicy, now: datetime
) -> list[tuple[LeadState, Lead]]:
    stored: list[StoredLead] = list(leads.leads_by_ids(session, connection, ids))
    by_lead: dict[str, list[Activity]] = defaultdict(list)
    for activity, _ in activity_rows.activities_for_leads(session, connection, ids):
        by_lead[activity.lead_id].append(activity)
    items: list[tuple[LeadState, Lead]] = []
    for s in stored:
        previous = LeadState.from_stored(s.state, s.extras) if s.extras else None
        state = derive(previous, s.lead, by_lead.get(s.lead.ref.lead_id, []), policy, now)
        items.append((state, s.lead))
    return items


def _state_update(decision: Decision, now: datetime) -> StateUpdate:
    """The state to store. Two shell rules on top of the engine's ``due_at``:

    - a lead that cannot be decided waits for its next change instead of being retried every cycle;
    - an MQL waiting for capacity with no time at which a rep becomes eligible (every rep at a cap) is looked
      at again after :data:`WAIT_RECHECK`, since capacity frees up through other leads' changes, which the
      waiting lead cannot see. There are only as many such leads as the overflow.
    """
    state = decision.state
    if decision.skipped is not None:
        state = replace(state, due_at=None)
    elif state.state is Phase.WAITING and state.due_at is None:
        state = replace(state, due_at=now + WAIT_RECHECK)
    return StateUpdate(decision.lead, state.columns(), state.extras())


def _assignments(decision: Decision, now: datetime) -> list[AssignmentEntry]:
    return [
        AssignmentEntry(
            connection=decision.lead.connection,
            lead_id=decision.lead.lead_id,
            kind=AssignmentKind(record.kind),
            owner_id=record.owner_id,
            previous_owner_id=record.previous_owner_id,
            at=now,
            rule=record.rule,
            method=record.method,
            reason=record.reason,
            candidates=[c.as_json() for c in record.candidates],
            policy_hash=decision.state.policy_hash,
        )
        for record in decision.assignments
    ]


def _outbox_rows(decision: Decision) -> list[NewOutboxRow]:
    rule = next((r.rule for r in decision.assignments if r.rule), None)
    return [
        NewOutboxRow(
            connection=decision.lead.connection,
            key=planned.key,
            kind=planned.kind,
            lead_id=decision.lead.lead_id,
            payload=wrap_payload(planned.action, rule, decision.state.policy_hash),
            priority=planned.priority,
        )
        for planned in decision.actions
    ]


def _enqueue(session: Session, rows: list[NewOutboxRow], now: datetime) -> int:
    return len(outbox.enqueue_many(session, rows, now)) if rows else 0


def _count(connection: str, decision: Decision) -> None:
    for planned in decision.actions:
        match planned.action:
            case Reassign():
                metrics.REASSIGNMENTS.labels(connection=connection).inc()
                metrics.BREACHES.labels(connection=connection, kind="sla").inc()
            case Recycle(reason=reason):
                metrics.RECYCLES.labels(connection=connection, reason=reason.split(":", 1)[0][:40]).inc()
            case _:
                pass
    if decision.skipped is not None:
        metrics.SKIPPED.labels(
            connection=connection, object="lead", reason=decision.skipped.split(":", 1)[0][:60]
        ).inc()
