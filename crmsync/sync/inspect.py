"""What the store knows about one lead, for ``crmsync explain``: snapshot, history, touches, audit, outbox rows.

Reads only, through the (connection, lead_id) indexes of each table, so it costs what the lead has, never the
org's size. The decision itself (rules, SLA clock, what happens next) comes from
:meth:`crmsync.sync.cycle.Cycle.decide_lead`, the very code a cycle runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from crmsync.domain import Activity
from crmsync.store.repositories import activities, history, leads
from crmsync.store.repositories import outbox as outbox_rows
from crmsync.store.repositories.history import AssignmentEntry, AuditEntry
from crmsync.store.repositories.leads import StoredLead
from crmsync.store.repositories.outbox import OutboxItem
from crmsync.store.session import Database
from crmsync.store.tables import Base

_OUTBOX = Base.metadata.tables["outbox"]


@dataclass(frozen=True, slots=True)
class LeadRecord:
    """Everything stored about one lead, oldest first within each list."""

    stored: StoredLead
    assignments: list[AssignmentEntry]
    activities: list[Activity]
    audit: list[AuditEntry]
    outbox: list[OutboxItem]


def lead_record(db: Database, connection: str, lead_id: str) -> LeadRecord | None:
    """The lead's stored record, or None when the store does not hold it."""
    with db.transaction() as session:
        found = list(leads.leads_by_ids(session, connection, [lead_id]))
        if not found:
            return None
        keys = (
            session.execute(
                select(_OUTBOX.c.idempotency_key)
                .where(_OUTBOX.c.connection == connection, _OUTBOX.c.lead_id == lead_id)
                .order_by(_OUTBOX.c.id)
            )
            .scalars()
            .all()
        )
        queued = [item for item in (outbox_rows.get(session, key) for key in keys) if item is not None]
        return LeadRecord(
            stored=found[0],
            assignments=history.assignment_history(session, connection, lead_id),
            activities=[a for a, _ in activities.activities_for_leads(session, connection, [lead_id])],
            audit=history.audit_trail(session, connection, lead_id),
            outbox=queued,
        )
