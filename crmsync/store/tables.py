"""The database schema: SQLAlchemy 2.0 typed models for every table crmsync keeps (DESIGN §5).

Rows are keyed by connection wherever a CRM id is involved. Every timestamp is a :class:`UtcDateTime`
(aware UTC on both dialects); JSON columns use the portable :class:`sqlalchemy.JSON`. Constraint names
follow :data:`NAMING_CONVENTION`, so Alembic migrations can name them on SQLite and PostgreSQL alike.
Nothing here sets a time on its own: callers pass ``now`` from the injected clock. Status columns hold the
values of the pure enums (:class:`~crmsync.outbox.model.OutboxStatus`, :class:`AssignmentKind`) as strings.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, MetaData, String, Text, UniqueConstraint, and_, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from crmsync.outbox.model import OutboxStatus
from crmsync.store.types import UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
SurrogateId = BigInteger().with_variant(Integer(), "sqlite")


class AssignmentKind(StrEnum):
    """Why a lead's owner changed (or was confirmed) in the assignment history."""

    ROUTE = "route"
    REASSIGN = "reassign"
    HIDE = "hide"
    RECYCLE = "recycle"
    REOPEN = "reopen"
    WAIT = "wait"  # a breach with nobody eligible: the lead waits with the team's holding owner
    SEEN = "seen"  # crmsync first saw a rep's ownership it did not decide


class Base(DeclarativeBase):
    """Declarative base carrying the constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ConnectionRow(Base):
    """One CRM account crmsync serves."""

    __tablename__ = "connections"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    vendor: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RepRow(Base):
    """A CRM user or queue that can own leads, as last pulled."""

    __tablename__ = "reps"

    connection: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean)
    timezone: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LeadRow(Base):
    """A lead's CRM snapshot (``fields`` holds every pulled field) plus the SLA state crmsync derived."""

    __tablename__ = "leads"
    __table_args__ = (
        Index(None, "connection", "due_at"),
        Index(None, "connection", "email"),
        Index(None, "connection", "owner_id"),
    )

    connection: Mapped[str] = mapped_column(String(64), primary_key=True)
    lead_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    modified_at: Mapped[datetime] = mapped_column(UtcDateTime())
    converted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Derived SLA state, written by the sync stage from the engine's results.
    mql: Mapped[bool | None] = mapped_column(Boolean)
    state: Mapped[str | None] = mapped_column(String(32))
    sla_tier: Mapped[str | None] = mapped_column(String(64))
    assigned_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    first_touch_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    touches_email: Mapped[int] = mapped_column(Integer, default=0)
    touches_call: Mapped[int] = mapped_column(Integer, default=0)
    touches_meeting: Mapped[int] = mapped_column(Integer, default=0)
    last_touch_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    replied_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    reassignment_count: Mapped[int] = mapped_column(Integer, default=0)
    previous_owners: Mapped[list[str]] = mapped_column(JSON, default=list)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    disposition: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    policy_hash: Mapped[str | None] = mapped_column(String(64))
    # Derived state the engine keeps without a column of its own (JSON-ready values).
    state_extras: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


Index(
    "ix_leads_open_by_owner",
    LeadRow.connection,
    LeadRow.owner_id,
    sqlite_where=and_(LeadRow.converted.is_(False), LeadRow.deleted.is_(False), LeadRow.closed_at.is_(None)),
    postgresql_where=and_(LeadRow.converted.is_(False), LeadRow.deleted.is_(False), LeadRow.closed_at.is_(None)),
)
"""Open leads per owner (routing loads): a partial index, so counting costs the open leads, not every lead."""


class ActivityRow(Base):
    """A touch or reply: pulled from the CRM (``key`` = CRM id) or captured (``key`` = capture key)."""

    __tablename__ = "activities"
    __table_args__ = (
        UniqueConstraint("connection", "key"),
        UniqueConstraint("connection", "crm_id"),
        Index(None, "connection", "lead_id"),
    )

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True)
    connection: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(Text)
    crm_id: Mapped[str | None] = mapped_column(String(64))
    lead_id: Mapped[str] = mapped_column(String(64))
    owner_id: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    source: Mapped[str] = mapped_column(String(16))
    automated: Mapped[bool] = mapped_column(Boolean, default=False)
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    subject: Mapped[str | None] = mapped_column(Text)
    logged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class AssignmentRow(Base):
    """One entry of a lead's ownership history, with the rule, method, reason and candidates considered."""

    __tablename__ = "assignments"
    __table_args__ = (Index(None, "connection", "lead_id"), Index(None, "connection", "at"))

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True)
    connection: Mapped[str] = mapped_column(String(64))
    lead_id: Mapped[str] = mapped_column(String(64))
    owner_id: Mapped[str | None] = mapped_column(String(64))
    previous_owner_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str | None] = mapped_column(Text)
    method: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    policy_hash: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class OutboxRow(Base):
    """A decided action waiting to be (or already) applied in the CRM; leased by dispatchers."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index(None, "status", "next_attempt_at"),
        Index(None, "connection", "lead_id"),
    )

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True)
    connection: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    lead_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    priority: Mapped[int] = mapped_column(Integer, default=100)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    lease_holder: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


UNFINISHED_OUTBOX = text("status IN ('pending', 'retry', 'leased')")
"""Rows a dispatcher may still lease; the lease query repeats this exact term so the partial index below applies."""

Index(
    "ix_outbox_unfinished",
    OutboxRow.connection,
    OutboxRow.priority,
    OutboxRow.id,
    sqlite_where=UNFINISHED_OUTBOX,
    postgresql_where=UNFINISHED_OUTBOX,
)
"""Leasing reads only unfinished rows, in dispatch order: its cost follows the backlog, not the outbox's history."""


class AuditRow(Base):
    """What crmsync changed on a lead and why: before/after values, rule, policy version, outbox key."""

    __tablename__ = "audit"
    __table_args__ = (Index(None, "connection", "lead_id"),)

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True)
    connection: Mapped[str] = mapped_column(String(64))
    lead_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    rule: Mapped[str | None] = mapped_column(Text)
    policy_hash: Mapped[str | None] = mapped_column(String(64))
    outbox_key: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class WatermarkRow(Base):
    """How far the incremental pull of one object of one connection has committed."""

    __tablename__ = "watermarks"

    connection: Mapped[str] = mapped_column(String(64), primary_key=True)
    object: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[datetime | None] = mapped_column(UtcDateTime())
    cursor: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CaptureCursorRow(Base):
    """How far capture has read one mailbox folder or calendar (IMAP UIDVALIDITY/UID, CalDAV sync token)."""

    __tablename__ = "capture_cursors"

    connection: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(255), primary_key=True)
    folder: Mapped[str] = mapped_column(String(255), primary_key=True)
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int | None] = mapped_column(BigInteger)
    sync_token: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ActivityLedgerRow(Base):
    """HubSpot activity creates (crmsync.crm.ledger): begun keys, and the CRM id once the create answered."""

    __tablename__ = "activity_ledger"

    connection: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    crm_id: Mapped[str | None] = mapped_column(String(64))
    begun_at: Mapped[datetime] = mapped_column(UtcDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class LeaseRow(Base):
    """A named lease (leader election, per-connection locks): who holds it and until when."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RoutingPointerRow(Base):
    """The round-robin position of one team of one connection."""

    __tablename__ = "routing_pointers"

    connection: Mapped[str] = mapped_column(String(64), primary_key=True)
    team: Mapped[str] = mapped_column(String(128), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
