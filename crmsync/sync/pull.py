"""Incremental pull: stream pages from the CRM port into the store, one transaction per page.

Each page's rows, its watermark and the "decide again" mark on the leads it touched commit together, so a
watermark never runs ahead of stored rows and a change is never lost between pull and decide: a crash after
the commit leaves the leads due, and the next cycle decides them. Re-pulling a window is harmless (upserts).
Records the adapter could not map arrive as :class:`~crmsync.crm.ports.Skip` values: logged with their id and
reason, counted, and the pull goes on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy.orm import Session

from crmsync.clock import Clock
from crmsync.crm.factory import PULL_LAG, pull_until
from crmsync.crm.ports import CrmPort, PullObject, Skip, Watermark
from crmsync.daemon import metrics
from crmsync.store.repositories import activities as activity_rows
from crmsync.store.repositories import coordination, leads, roster
from crmsync.store.session import Database

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class PullReport:
    """What one pull brought in."""

    owners: int = 0
    leads: int = 0
    activities: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    pages: int = 0

    def skip(self, items: Iterable[Skip], connection: str) -> None:
        """Log and count each record that could not be mapped."""
        for item in items:
            self.skipped[item.object] = self.skipped.get(item.object, 0) + 1
            metrics.SKIPPED.labels(connection=connection, object=item.object, reason=_reason_label(item.reason)).inc()
            log.warning(
                "record skipped",
                connection=connection,
                object=item.object,
                record_id=item.record_id,
                reason=item.reason,
            )


def pull(db: Database, crm: CrmPort, clock: Clock, *, lag: timedelta = PULL_LAG) -> PullReport:
    """Pull owners, then leads and activities changed since their watermarks, up to ``now - lag``."""
    report = PullReport()
    now = clock.now()
    until = pull_until(now, lag)
    with db.transaction() as session:
        roster.ensure_connection(session, crm.connection, crm.vendor, now)
    _pull_owners(db, crm, clock, report)
    _pull_leads(db, crm, clock, until, report)
    _pull_activities(db, crm, clock, until, report)
    return report


def _pull_owners(db: Database, crm: CrmPort, clock: Clock, report: PullReport) -> None:
    for page in crm.pull_owners():
        with db.transaction() as session:
            report.owners += roster.upsert_reps(session, page.records, clock.now())
        report.skip(page.skipped, crm.connection)
        report.pages += 1


def _pull_leads(db: Database, crm: CrmPort, clock: Clock, until: datetime, report: PullReport) -> None:
    since = _since(db, crm.connection, PullObject.LEADS)
    for page in crm.pull_leads(since, until):
        now = clock.now()
        with db.transaction() as session:
            leads.upsert_leads(session, page.records, now)
            leads.mark_due(session, crm.connection, [lead.ref.lead_id for lead in page.records], now)
            _advance(session, crm.connection, PullObject.LEADS, page.watermark, now)
        report.leads += len(page.records)
        report.skip(page.skipped, crm.connection)
        report.pages += 1


def _pull_activities(db: Database, crm: CrmPort, clock: Clock, until: datetime, report: PullReport) -> None:
    since = _since(db, crm.connection, PullObject.ACTIVITIES)
    for page in crm.pull_activities(since, until):
        now = clock.now()
        with db.transaction() as session:
            activity_rows.upsert_activities(session, page.records)
            leads.mark_due(session, crm.connection, {a.lead_id for a in page.records}, now)
            _advance(session, crm.connection, PullObject.ACTIVITIES, page.watermark, now)
        report.activities += len(page.records)
        report.skip(page.skipped, crm.connection)
        report.pages += 1


def _since(db: Database, connection: str, obj: PullObject) -> Watermark | None:
    with db.transaction() as session:
        stored = coordination.get_watermark(session, connection, obj.value)
    if stored is None or stored.value is None:
        return None
    return Watermark(stored.value, stored.cursor or "")


def _advance(session: Session, connection: str, obj: PullObject, mark: Watermark | None, now: datetime) -> None:
    if mark is not None:
        coordination.advance_watermark(session, connection, obj.value, mark.instant, mark.last_id, now)


def _reason_label(reason: str) -> str:
    """A bounded metric label: the reason up to its first colon (ids and values stay in the log line)."""
    return reason.split(":", 1)[0][:60]
