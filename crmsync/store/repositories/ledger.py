"""The activity ledger on the database: HubSpot activity creates stay exactly-once across restarts and crashes.

:class:`DatabaseLedger` implements :class:`crmsync.crm.ledger.ActivityLedger` on the ``activity_ledger``
table. Each call is its own committed transaction, because the adapter calls it between HTTP requests and the
point of the ledger is that ``begin`` is durable before the create is sent. ``begin`` never downgrades a
completed key, and ``complete`` overwrites whatever was there (the CRM's answer is the truth).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.clock import Clock
from crmsync.crm.ledger import LedgerEntry
from crmsync.store.repositories._bulk import chunked, max_rows, upsert
from crmsync.store.session import Database
from crmsync.store.tables import Base

_LEDGER = Base.metadata.tables["activity_ledger"]


def lookup(session: Session, connection: str, keys: Sequence[str]) -> dict[str, LedgerEntry]:
    """The entries known for ``keys`` of ``connection`` (keys never begun are absent)."""
    found: dict[str, LedgerEntry] = {}
    for chunk in chunked(dict.fromkeys(keys), max_rows(session, 1)):
        query = select(_LEDGER.c.key, _LEDGER.c.crm_id).where(
            _LEDGER.c.connection == connection, _LEDGER.c.key.in_(chunk)
        )
        for key, crm_id in session.execute(query):
            found[key] = LedgerEntry(key, crm_id)
    return found


def begin(session: Session, connection: str, keys: Iterable[str], now: datetime) -> None:
    """Record the intent to create ``keys``; a key already begun or completed is left as it is."""
    rows = [
        {"connection": connection, "key": key, "crm_id": None, "begun_at": now, "completed_at": None}
        for key in dict.fromkeys(keys)
    ]
    upsert(session, _LEDGER, rows, keys=("connection", "key"), update=())


def complete(session: Session, connection: str, key: str, crm_id: str, now: datetime) -> None:
    """Record that ``key`` exists in the CRM as ``crm_id`` (inserting the entry if it was never begun)."""
    row = {"connection": connection, "key": key, "crm_id": crm_id, "begun_at": now, "completed_at": now}
    upsert(session, _LEDGER, [row], keys=("connection", "key"), update=("crm_id", "completed_at"))


class DatabaseLedger:
    """The store's :class:`~crmsync.crm.ledger.ActivityLedger`; every call commits before it returns."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def lookup(self, connection: str, keys: Sequence[str]) -> dict[str, LedgerEntry]:
        """The entries known for ``keys`` (absent keys were never begun)."""
        with self._db.transaction() as session:
            return lookup(session, connection, keys)

    def begin(self, connection: str, keys: Iterable[str]) -> None:
        """Durably record the intent to create ``keys`` (idempotent; completed keys stay completed)."""
        with self._db.transaction() as session:
            begin(session, connection, keys, self._clock.now())

    def complete(self, connection: str, key: str, crm_id: str) -> None:
        """Durably record that ``key`` exists in the CRM as ``crm_id``."""
        with self._db.transaction() as session:
            complete(session, connection, key, crm_id, self._clock.now())
