"""Repositories: functions that move data between the store and the rest of crmsync, on SQLite and PostgreSQL.

Each takes a :class:`sqlalchemy.orm.Session` from :meth:`crmsync.store.session.Database.transaction` and
never commits: the caller's transaction decides what lands together. No business decisions here.

- :mod:`.roster`: connections and reps (users, queues)
- :mod:`.leads`: lead snapshots, derived SLA state, streaming reads (due, by id, by email)
- :mod:`.activities`: touches and replies, pulled or captured
- :mod:`.outbox`: idempotent enqueue, leasing batches, fenced saves
- :mod:`.history`: assignment history and audit trail
- :mod:`.coordination`: named leases, watermarks, capture cursors, round-robin pointers
"""

from crmsync.store.repositories import activities, coordination, history, leads, outbox, roster

__all__ = ["activities", "coordination", "history", "leads", "outbox", "roster"]
