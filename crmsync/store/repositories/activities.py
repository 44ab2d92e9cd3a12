"""Activities (touches and replies), pulled from the CRM or captured from mailboxes and calendars.

An activity is identified per connection by ``key`` (the CRM id for pulled ones, the capture key for captured
ones) and, once the CRM has it, also by ``crm_id``. When a pulled activity carries a CRM id the store already
knows under another key (a captured touch crmsync logged itself), the existing row is updated instead of a
duplicate being added: its key and source stay those of the first sighting.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, RowMapping, bindparam, select, update
from sqlalchemy.orm import Session

from crmsync.domain import Activity, ActivitySource, Channel, Direction
from crmsync.store.repositories._bulk import chunked, max_rows, upsert
from crmsync.store.tables import ActivityRow, Base

_ACTIVITIES = Base.metadata.tables["activities"]
_UPDATED = (
    "crm_id",
    "lead_id",
    "owner_id",
    "channel",
    "direction",
    "occurred_at",
    "automated",
    "duration_minutes",
    "subject",
)


def upsert_activities(session: Session, activities: Iterable[Activity]) -> int:
    """Insert or refresh ``activities`` by (connection, key), merging on a known CRM id; return the count sent.

    Captured activities are the better record of what happened: when the pull later reads crmsync's own
    logged Task or email back (same key, now with a CRM id), only the CRM id is taken from it; the captured
    time, channel and automated flag stay. An incoming activity without a CRM id (a capture seen again after
    a rescan or a crash replay) never clears the CRM id an earlier log stored.
    """
    sent = 0
    without_crm_id = tuple(name for name in _UPDATED if name != "crm_id")
    not_captured = _ACTIVITIES.c.source != ActivitySource.CAPTURE.value
    for chunk in chunked(activities, max_rows(session, 1)):
        known = _keys_by_crm_id(session, chunk)
        rows = [_values(activity, known) for activity in chunk]
        with_id = [row for row in rows if row["crm_id"] is not None]
        without_id = [row for row in rows if row["crm_id"] is None]
        sent += upsert(
            session, _ACTIVITIES, with_id, keys=("connection", "key"), update=_UPDATED, where=lambda _: not_captured
        )
        _link_captured(session, with_id)
        sent += upsert(session, _ACTIVITIES, without_id, keys=("connection", "key"), update=without_crm_id)
    return sent


def _link_captured(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Give captured rows the CRM id their pulled copy carries (nothing else of the copy is taken)."""
    if not rows:
        return
    stmt = (
        update(_ACTIVITIES)
        .where(
            _ACTIVITIES.c.connection == bindparam("b_connection"),
            _ACTIVITIES.c.key == bindparam("b_key"),
            _ACTIVITIES.c.source == ActivitySource.CAPTURE.value,
        )
        .values(crm_id=bindparam("b_crm_id"))
    )
    params = [{"b_connection": r["connection"], "b_key": r["key"], "b_crm_id": r["crm_id"]} for r in rows]
    session.execute(stmt, params)


def mark_logged(session: Session, connection: str, key: str, crm_id: str, logged_at: datetime) -> bool:
    """Record that the captured activity ``key`` now exists in the CRM as ``crm_id``; False if ``key`` is unknown."""
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]  # DML returns a CursorResult
        update(ActivityRow)
        .where(ActivityRow.connection == connection, ActivityRow.key == key)
        .values(crm_id=crm_id, logged_at=logged_at)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def activities_for_leads(
    session: Session, connection: str, lead_ids: Iterable[str]
) -> Iterator[tuple[Activity, datetime | None]]:
    """The activities of ``lead_ids`` with their ``logged_at``, by lead then time of occurrence."""
    for chunk in chunked(dict.fromkeys(lead_ids), max_rows(session, 1)):
        query = (
            select(_ACTIVITIES)
            .where(_ACTIVITIES.c.connection == connection, _ACTIVITIES.c.lead_id.in_(chunk))
            .order_by(_ACTIVITIES.c.lead_id, _ACTIVITIES.c.occurred_at, _ACTIVITIES.c.id)
        )
        for row in session.execute(query).mappings():
            yield _to_activity(row), row["logged_at"]


def unlogged_captures(session: Session, connection: str, *, limit: int) -> list[Activity]:
    """Captured activities not yet written to the CRM (no ``logged_at``), oldest first, at most ``limit``."""
    query = (
        select(_ACTIVITIES)
        .where(
            _ACTIVITIES.c.connection == connection,
            _ACTIVITIES.c.source == ActivitySource.CAPTURE.value,
            _ACTIVITIES.c.logged_at.is_(None),
        )
        .order_by(_ACTIVITIES.c.occurred_at, _ACTIVITIES.c.id)
        .limit(limit)
    )
    return [_to_activity(row) for row in session.execute(query).mappings()]


def _keys_by_crm_id(session: Session, chunk: Sequence[Activity]) -> dict[tuple[str, str], str]:
    """(connection, CRM id) → the key the store already holds it under, for the CRM ids in ``chunk``."""
    wanted = {(a.connection, a.crm_id) for a in chunk if a.crm_id is not None}
    if not wanted:
        return {}
    query = select(_ACTIVITIES.c.connection, _ACTIVITIES.c.crm_id, _ACTIVITIES.c.key).where(
        _ACTIVITIES.c.connection.in_({c for c, _ in wanted}),
        _ACTIVITIES.c.crm_id.in_({i for _, i in wanted}),
    )
    return {(c, i): k for c, i, k in session.execute(query) if i is not None}


def _values(activity: Activity, known: dict[tuple[str, str], str]) -> dict[str, Any]:
    key = activity.key
    if activity.crm_id is not None:
        key = known.get((activity.connection, activity.crm_id), key)
    return {
        "connection": activity.connection,
        "key": key,
        "crm_id": activity.crm_id,
        "lead_id": activity.lead_id,
        "owner_id": activity.owner_id,
        "channel": activity.channel.value,
        "direction": activity.direction.value,
        "occurred_at": activity.occurred_at,
        "source": activity.source.value,
        "automated": activity.automated,
        "duration_minutes": activity.duration_minutes,
        "subject": activity.subject,
        "logged_at": None,
    }


def _to_activity(row: RowMapping) -> Activity:
    return Activity(
        connection=row["connection"],
        key=row["key"],
        lead_id=row["lead_id"],
        owner_id=row["owner_id"],
        channel=Channel(row["channel"]),
        direction=Direction(row["direction"]),
        occurred_at=row["occurred_at"],
        source=ActivitySource(row["source"]),
        automated=bool(row["automated"]),
        duration_minutes=row["duration_minutes"],
        subject=row["subject"],
        crm_id=row["crm_id"],
    )
