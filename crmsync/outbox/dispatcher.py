"""The outbox dispatcher: lease rows, check their premise, apply them in the largest batches, record outcomes.

One :meth:`Dispatcher.run` drains what is due for one connection::

    lease a batch (FOR UPDATE SKIP LOCKED on PostgreSQL, the write lock on SQLite)
      → decode each row's action (an undecodable row is dead, with the reason)
      → group by kind, cut into the CRM's batch size
      → one batched read of the current owners of the leads the group moves; an action whose premise changed
        (the owner is not the one the decision saw, the lead is gone, the owner touched it since) is skipped
      → apply; one outcome per action → pure transition (outbox.model.record) → saved, fenced by our lease
      → an audit row for every action that landed

Transient failures of a whole call (RetriableError) put the group back as retries with the server's delay;
FatalError/AuthError release every lease we hold and propagate: the connection needs an operator. A stop
request (SIGTERM) is honoured between groups: the rows not yet applied are released, not counted as attempts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

import structlog
from sqlalchemy.orm import Session

from crmsync.clock import Clock
from crmsync.crm.ports import CrmPort, Outcome, OutcomeStatus
from crmsync.daemon import metrics
from crmsync.domain import Action, CreateTask, LogActivity, moves_owner
from crmsync.errors import FatalError, RetriableError
from crmsync.outbox import codec
from crmsync.outbox.model import OutboxEntry, OutboxStatus, RetryPolicy, postpone, record, release
from crmsync.store.repositories import activities, history
from crmsync.store.repositories import outbox as rows
from crmsync.store.repositories.outbox import OutboxItem
from crmsync.store.session import Database

log = structlog.get_logger(__name__)

MOVE_WAIT = timedelta(seconds=30)
"""How long a task waits before looking again at the move it announces (it counts no attempt meanwhile)."""

TouchedSince = Callable[[Sequence[str], datetime], set[str]]
"""(lead ids, instant) → the ids of leads whose owner touched them after that instant (read from the store)."""

DoneHook = Callable[[Session, Sequence[tuple[Action, Outcome]], datetime], None]
"""Called with the session that records actions as DONE (same transaction), the landed actions and ``now``."""


def mark_logged_activities(session: Session, landed: Sequence[tuple[Action, Outcome]], now: datetime) -> None:
    """The default :data:`DoneHook`: a captured activity whose LogActivity landed gets its CRM id and logged time."""
    for action, outcome in landed:
        if isinstance(action, LogActivity) and outcome.crm_id:
            activities.mark_logged(session, action.lead.connection, action.capture_key, outcome.crm_id, now)


@dataclass(frozen=True, slots=True)
class Work:
    """A leased row with its decoded action and the audit facts the decision carried."""

    item: OutboxItem
    action: Action
    rule: str | None
    policy_hash: str | None


@dataclass(slots=True)
class DispatchReport:
    """What one :meth:`Dispatcher.run` did, by outcome."""

    leased: int = 0
    done: int = 0
    retry: int = 0
    dead: int = 0
    skipped: int = 0
    released: int = 0
    postponed: int = 0
    calls: int = 0
    stopped: bool = False
    by_kind: dict[str, int] = field(default_factory=dict)

    def count(self, entry: OutboxEntry) -> None:
        """Tally one row's new status."""
        name = entry.status.value
        if hasattr(self, name):
            setattr(self, name, getattr(self, name) + 1)


def wrap_payload(action: Action, rule: str | None, policy_hash: str | None) -> dict[str, Any]:
    """The outbox payload for ``action``: the encoded action plus the rule and policy hash for the audit."""
    return {"action": codec.encode(action), "rule": rule, "policy_hash": policy_hash}


class Dispatcher:
    """Applies one connection's due outbox rows through its :class:`CrmPort`."""

    def __init__(
        self,
        db: Database,
        crm: CrmPort,
        clock: Clock,
        holder: str,
        *,
        retry: RetryPolicy | None = None,
        lease_ttl: timedelta = timedelta(seconds=60),
        lease_limit: int = 1000,
        touched_since: TouchedSince | None = None,
        stop: threading.Event | None = None,
        on_done: DoneHook | None = mark_logged_activities,
    ) -> None:
        self.db, self.crm, self.clock, self.holder = db, crm, clock, holder
        self.on_done = on_done
        self.retry = retry or RetryPolicy()
        self.lease_ttl, self.lease_limit = lease_ttl, lease_limit
        self.touched_since = touched_since
        self.stop = stop or threading.Event()

    def run(self, *, max_rounds: int = 1000) -> DispatchReport:
        """Drain due rows until none is left, a stop is requested, or ``max_rounds`` leases were taken."""
        report = DispatchReport()
        for _ in range(max_rounds):
            if self.stop.is_set():
                report.stopped = True
                break
            leased = self._lease()
            if not leased:
                break
            report.leased += len(leased)
            self._process(leased, report)
        return report

    def _lease(self) -> list[OutboxItem]:
        with self.db.transaction(immediate=True) as session:
            return rows.lease_batch(
                session,
                self.holder,
                self.clock.now(),
                self.lease_ttl,
                self.lease_limit,
                connection=self.crm.connection,
            )

    def _process(self, leased: Sequence[OutboxItem], report: DispatchReport) -> None:
        work, broken = _decode_all(leased)
        self._save([(item, outcome, None) for item, outcome in broken], report)
        groups = [list(g) for _, g in groupby(sorted(work, key=_group_key), key=_group_key)]
        try:
            for position, group in enumerate(groups):
                try:
                    if self.stop.is_set():
                        raise _Stopped(group)
                    self._process_group(group, report)
                except _Stopped as stopped:
                    self._release([*stopped.rest, *(w for g in groups[position + 1 :] for w in g)], report)
                    report.stopped = True
                    return
        except FatalError:
            self._release([w for g in groups for w in g], report)
            raise

    def _process_group(self, group: list[Work], report: DispatchReport) -> None:
        """Apply one kind's rows in CRM-sized chunks; a stop request between chunks releases the rest."""
        size = max(1, self.crm.batch_size(group[0].action))
        for start in range(0, len(group), size):
            if self.stop.is_set():
                raise _Stopped(group[start:])
            chunk = group[start : start + size]
            priority = chunk[0].item.priority
            if not self.crm.allow(priority):
                self._defer(chunk, "budget reserve reached for this priority", report)
                continue
            chunk = self._after_moves(chunk, report)
            ready, skipped = self._check_premises(chunk)
            self._finish(skipped, report)
            if ready:
                self._apply(ready, report)

    def _after_moves(self, chunk: list[Work], report: DispatchReport) -> list[Work]:
        """Hold back tasks announcing a move until it landed; drop them if it never will. Returns the rest."""
        gated = {id(w): w.action.after for w in chunk if isinstance(w.action, CreateTask) and w.action.after}
        if not gated:
            return chunk
        with self.db.transaction() as session:
            moves = rows.statuses(session, gated.values())
        now = self.clock.now()
        waiting: list[OutboxEntry] = []
        dropped: list[tuple[Work, Outcome]] = []
        for w in chunk:
            if id(w) not in gated:
                continue
            status = moves.get(gated[id(w)])
            if status in (OutboxStatus.SKIPPED, OutboxStatus.DEAD):
                reason = f"the move it announces did not land ({status.value})"
                dropped.append((w, Outcome(OutcomeStatus.SKIPPED, code="MOVE_NOT_LANDED", message=reason)))
            elif status is not None and status is not OutboxStatus.DONE:
                waiting.append(postpone(w.item.entry, now, MOVE_WAIT, "waiting for the move it announces"))
        self._finish(dropped, report)
        if waiting:
            with self.db.transaction() as session:
                report.postponed += len(rows.save_leased(session, waiting, self.holder, now))
        held = {w.item.entry.key for w, _ in dropped} | {e.key for e in waiting}
        return [w for w in chunk if w.item.entry.key not in held]

    def _apply(self, chunk: list[Work], report: DispatchReport) -> None:
        report.calls += 1
        try:
            outcomes = self.crm.apply([w.action for w in chunk])
        except RetriableError as err:
            outcome = Outcome(
                OutcomeStatus.RETRY, code=err.code or type(err).__name__, message=str(err), retry_after=err.retry_after
            )
            outcomes = [outcome] * len(chunk)
        if len(outcomes) != len(chunk):
            raise FatalError(
                f"adapter returned {len(outcomes)} outcomes for {len(chunk)} actions", connection=self.crm.connection
            )
        self._finish(list(zip(chunk, outcomes, strict=True)), report)

    def _check_premises(self, chunk: list[Work]) -> tuple[list[Work], list[tuple[Work, Outcome]]]:
        movers = [w for w in chunk if moves_owner(w.action) is not None]
        if not movers:
            return chunk, []
        ids = sorted({w.action.lead.lead_id for w in movers})
        current = self.crm.current_owners(ids)
        touched = self._touched(movers)
        ready: list[Work] = []
        skipped: list[tuple[Work, Outcome]] = []
        for w in chunk:
            reason = _premise_broken(w, current, touched) if w in movers else None
            if reason is None:
                ready.append(w)
            else:
                skipped.append((w, Outcome(OutcomeStatus.SKIPPED, code="PREMISE_CHANGED", message=reason)))
        return ready, skipped

    def _touched(self, movers: Sequence[Work]) -> set[str]:
        if self.touched_since is None:
            return set()
        oldest = min(w.item.created_at for w in movers)
        candidates = sorted({w.action.lead.lead_id for w in movers})
        found = self.touched_since(candidates, oldest)
        return {w.action.lead.lead_id for w in movers if w.action.lead.lead_id in found}

    def _defer(self, chunk: Sequence[Work], why: str, report: DispatchReport) -> None:
        outcome = Outcome(OutcomeStatus.RETRY, code="BUDGET_RESERVE", message=why, retry_after=300)
        self._finish([(w, outcome) for w in chunk], report)

    def _finish(self, results: Iterable[tuple[Work, Outcome]], report: DispatchReport) -> None:
        self._save([(w.item, outcome, w) for w, outcome in results], report)

    def _save(self, results: Sequence[tuple[OutboxItem, Outcome, Work | None]], report: DispatchReport) -> None:
        """Apply each outcome to its row (pure transition), save it fenced by our lease, audit what landed."""
        if not results:
            return
        now = self.clock.now()
        updated = [(item, record(item.entry, outcome, now, self.retry), outcome, w) for item, outcome, w in results]
        with self.db.transaction() as session:
            written = rows.save_leased(session, [entry for _, entry, _, _ in updated], self.holder, now)
            landed = [
                (w, outcome)
                for _, entry, outcome, w in updated
                if w is not None and entry.key in written and outcome.status is OutcomeStatus.DONE
            ]
            history.append_audit(session, [_audit(w, outcome, now) for w, outcome in landed])
            if self.on_done is not None and landed:
                self.on_done(session, [(w.action, outcome) for w, outcome in landed], now)
        for item, entry, outcome, _ in updated:
            if entry.key not in written:
                log.warning("outbox lease lost", key=entry.key, kind=item.kind)
                continue
            report.count(entry)
            report.by_kind[item.kind] = report.by_kind.get(item.kind, 0) + 1
            metrics.ACTIONS.labels(connection=self.crm.connection, kind=item.kind, outcome=entry.status.value).inc()
            if outcome.status is not OutcomeStatus.DONE:
                log.info(
                    "outbox row not applied",
                    key=entry.key,
                    kind=item.kind,
                    status=entry.status.value,
                    code=outcome.code,
                    reason=outcome.message,
                    attempts=entry.attempts,
                )

    def _release(self, work: Sequence[Work], report: DispatchReport) -> None:
        if not work:
            return
        with self.db.transaction() as session:
            written = rows.save_leased(session, [release(w.item.entry) for w in work], self.holder, self.clock.now())
        report.released += len(written)


class _Stopped(Exception):
    """A stop request arrived; ``rest`` are the rows of the current group not yet applied."""

    def __init__(self, rest: Sequence[Work]) -> None:
        super().__init__("stop requested")
        self.rest = list(rest)


def _decode_all(leased: Sequence[OutboxItem]) -> tuple[list[Work], list[tuple[OutboxItem, Outcome]]]:
    """Decode each row's action; a row that cannot be decoded is dead with the reason (never retried)."""
    work: list[Work] = []
    broken: list[tuple[OutboxItem, Outcome]] = []
    for item in leased:
        try:
            action = codec.decode(item.kind, item.payload["action"])
        except (ValueError, KeyError, TypeError) as err:
            broken.append((item, Outcome(OutcomeStatus.DEAD, code="BAD_PAYLOAD", message=str(err))))
            continue
        work.append(Work(item, action, item.payload.get("rule"), item.payload.get("policy_hash")))
    return work, broken


def _group_key(w: Work) -> tuple[int, str]:
    return (w.item.priority, w.item.kind)


def _premise_broken(w: Work, current: Mapping[str, str | None], touched: set[str]) -> str | None:
    lead_id = w.action.lead.lead_id
    if lead_id not in current:
        return "the lead no longer exists in the CRM"
    expected = getattr(w.action, "expected_owner_id", None)
    now_owner = current[lead_id]
    if now_owner == moves_owner(w.action):
        return None  # already where the action would put it (an earlier attempt landed): nothing to undo
    if now_owner != expected:
        return f"owner changed since the decision (expected {expected}, now {now_owner})"
    if lead_id in touched:
        return "the owner touched the lead since the decision"
    return None


def _audit(w: Work, outcome: Outcome, now: datetime) -> history.AuditEntry:
    action = w.action
    after: dict[str, Any] = {"owner_id": moves_owner(action)} if moves_owner(action) is not None else {}
    if outcome.crm_id:
        after["crm_id"] = outcome.crm_id
    expected = getattr(action, "expected_owner_id", None)
    return history.AuditEntry(
        connection=action.lead.connection,
        lead_id=action.lead.lead_id,
        action=w.item.kind,
        before={"owner_id": expected} if expected is not None else None,
        after=after or None,
        rule=w.rule,
        policy_hash=w.policy_hash,
        outbox_key=w.item.entry.key,
        at=now,
    )
