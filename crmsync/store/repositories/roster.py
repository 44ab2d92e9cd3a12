"""Connections and the reps (users and queues) that can own leads."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.domain import Owner, OwnerKind, Vendor
from crmsync.store.repositories._bulk import upsert
from crmsync.store.tables import Base

_CONNECTIONS = Base.metadata.tables["connections"]
_REPS = Base.metadata.tables["reps"]
_REP_COLUMNS = ("kind", "name", "email", "active", "timezone", "updated_at")


def ensure_connection(session: Session, name: str, vendor: Vendor, now: datetime) -> None:
    """Record the connection ``name`` if it is new; an existing one is left as it is."""
    row = {"name": name, "vendor": vendor.value, "created_at": now}
    upsert(session, _CONNECTIONS, [row], keys=("name",), update=())


def connections(session: Session) -> dict[str, Vendor]:
    """Every known connection and its vendor."""
    rows = session.execute(select(_CONNECTIONS.c.name, _CONNECTIONS.c.vendor))
    return {name: Vendor(vendor) for name, vendor in rows}


def upsert_reps(session: Session, owners: Iterable[Owner], now: datetime) -> int:
    """Insert or refresh ``owners`` (users and queues) by (connection, owner id); return how many were sent."""
    rows = (
        {
            "connection": owner.connection,
            "owner_id": owner.owner_id,
            "kind": owner.kind.value,
            "name": owner.name,
            "email": owner.email,
            "active": owner.active,
            "timezone": owner.timezone,
            "updated_at": now,
        }
        for owner in owners
    )
    return upsert(session, _REPS, rows, keys=("connection", "owner_id"), update=_REP_COLUMNS)


def list_reps(session: Session, connection: str) -> list[Owner]:
    """Every user and queue of ``connection``, by owner id."""
    query = select(_REPS).where(_REPS.c.connection == connection).order_by(_REPS.c.owner_id)
    return [
        Owner(
            connection=row["connection"],
            owner_id=row["owner_id"],
            kind=OwnerKind(row["kind"]),
            name=row["name"],
            email=row["email"],
            active=bool(row["active"]),
            timezone=row["timezone"],
        )
        for row in session.execute(query).mappings()
    ]
