"""Capture's side of the store: the sink that keeps captured touches and queues their CRM logging, and lookups.

:class:`StoreSink` is the :class:`~crmsync.capture.service.ActivitySink` of a running crmsync. For each batch
of matches, in ONE transaction:

1. the activities are upserted by (connection, activity key) — a key seen again (rescan, crash replay,
   the same message in another folder or mailbox) refreshes its row and never clears a CRM id already logged;
2. the leads of the activities new to the store are marked due at ``now``, so the next cycle counts the touch
   (or reply) at once, before the CRM write lands (DESIGN §3.7); a repeat changes nothing and wakes no lead;
3. one ``logactivity`` outbox row per activity not yet logged, with idempotency key
   ``<connection>/<lead id>:logactivity:<activity key>`` and priority :attr:`Priority.CAPTURE`; a key already
   in the outbox is not added again.

The outbox payload's body is cut to the body policy once more here (``none`` stores and sends no body), so
nothing beyond what the policy allows is ever stored or sent, whatever the reader handed over. When the
dispatcher lands a row, :func:`crmsync.outbox.dispatcher.mark_logged_activities` records the CRM id in the
same transaction that marks the row done.

:class:`StoreLeadDirectory` finds leads by address with one indexed query per chunk; :func:`load_reps`
reads the rep index (email → owner id) from the stored roster.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.capture.matching import CaptureMatch, LeadIndex, rep_index
from crmsync.capture.model import BodyPolicy, apply_body_policy, fold_plus_tag
from crmsync.clock import Clock
from crmsync.outbox.codec import kind_of
from crmsync.outbox.dispatcher import wrap_payload
from crmsync.outbox.model import Priority
from crmsync.store.repositories import activities, leads, outbox, roster
from crmsync.store.repositories._bulk import chunked, max_rows
from crmsync.store.repositories.outbox import NewOutboxRow
from crmsync.store.session import Database
from crmsync.store.tables import Base

log = structlog.get_logger(__name__)

_ACTIVITIES = Base.metadata.tables["activities"]
CAPTURE_RULE = "capture"
"""The ``rule`` recorded in the audit trail for a logged capture."""


def outbox_key(connection: str, lead_id: str, activity_key: str) -> str:
    """The idempotency key of the LogActivity row of one captured activity."""
    return f"{connection}/{lead_id}:logactivity:{activity_key}"


def stored_keys(session: Session, connection: str, keys: Iterable[str]) -> dict[str, bool]:
    """Activity key → whether it is already logged in the CRM, for the keys the store holds."""
    found: dict[str, bool] = {}
    for chunk in chunked(dict.fromkeys(keys), max_rows(session, 1)):
        query = select(_ACTIVITIES.c.key, _ACTIVITIES.c.logged_at).where(
            _ACTIVITIES.c.connection == connection, _ACTIVITIES.c.key.in_(chunk)
        )
        found.update((key, logged_at is not None) for key, logged_at in session.execute(query))
    return found


class StoreSink:
    """Stores matches, marks their leads due and enqueues their logging; see the module docstring."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        connection: str,
        *,
        body: BodyPolicy,
        policy_hash: str | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self.connection = connection
        self.body = body
        self.policy_hash = policy_hash
        self.enqueued = 0

    def add(self, matches: Sequence[CaptureMatch]) -> int:
        """Store ``matches`` in one transaction (see the module docstring); return how many keys were new.

        Raises ValueError for a match of another connection (a wiring mistake, never data).
        """
        unique = list({m.activity.key: m for m in matches}.values())
        if not unique:
            return 0
        if any(m.activity.connection != self.connection for m in unique):
            raise ValueError(f"StoreSink of {self.connection} was given another connection's matches")
        now = self._clock.now()
        with self._db.transaction() as session:
            known = stored_keys(session, self.connection, (m.activity.key for m in unique))
            activities.upsert_activities(session, [m.activity for m in unique])
            fresh = {m.activity.lead_id for m in unique if m.activity.key not in known}
            leads.mark_due(session, self.connection, fresh, now)
            rows = [self._row(m) for m in unique if not known.get(m.activity.key, False)]
            added = outbox.enqueue_many(session, rows, now) if rows else set()
        new = sum(1 for m in unique if m.activity.key not in known)
        self.enqueued += len(added)
        log.debug("capture_stored", connection=self.connection, activities=len(unique), new=new, enqueued=len(added))
        return new

    def _row(self, match: CaptureMatch) -> NewOutboxRow:
        action = replace(match.log, body=apply_body_policy(match.log.body, self.body))
        return NewOutboxRow(
            connection=self.connection,
            key=outbox_key(self.connection, action.lead.lead_id, action.capture_key),
            kind=kind_of(action),
            lead_id=action.lead.lead_id,
            payload=wrap_payload(action, CAPTURE_RULE, self.policy_hash),
            priority=Priority.CAPTURE,
        )


class StoreLeadDirectory:
    """The store's :class:`~crmsync.capture.service.LeadDirectory` for one connection."""

    def __init__(self, db: Database, connection: str) -> None:
        self._db = db
        self.connection = connection

    def index_for(self, addresses: Collection[str]) -> LeadIndex:
        """Live leads whose stored email is one of ``addresses`` or their ``+tag``-folded forms."""
        wanted = set(addresses) | {fold_plus_tag(a) for a in addresses}
        if not wanted:
            return LeadIndex(self.connection, {})
        with self._db.transaction() as session:
            found = [stored.lead for stored in leads.leads_by_emails(session, self.connection, wanted)]
        return LeadIndex.from_leads(self.connection, found)


def load_reps(db: Database, connection: str) -> dict[str, str]:
    """Normalised email → owner id of the connection's active users, from the stored roster."""
    with db.transaction() as session:
        return rep_index(roster.list_reps(session, connection))
