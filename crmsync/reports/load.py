"""Read the facts a report needs from the store, one chunk of leads at a time (shell).

Leads relevant to a period are those with an ownership event since the period began, those closed in it,
those created in it, and every open MQL (the stale snapshot needs them). They are read by keyset pages of
:data:`CHUNK` leads; each page's assignments and activities come in two ``IN`` queries per connection. Memory
holds one page of history plus the keys of the leads moved since the period began, whatever the size of the
org (the session's identity map holds loaded rows weakly; the caller's pending objects are left alone).
Ids are qualified with their connection (``conn:id``), so several connections can share one report.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, or_, select, tuple_
from sqlalchemy.orm import Session

from crmsync.policy.model import Policy
from crmsync.reports.compute import ActivityFacts, AssignmentFacts, LeadFacts, LeadHistory, Period, RepFacts
from crmsync.store.tables import ActivityRow, AssignmentRow, LeadRow, RepRow

CHUNK = 500
LEADS = LeadRow.__table__
ASSIGNMENTS = AssignmentRow.__table__
ACTIVITIES = ActivityRow.__table__
"""Rows are read as plain tuples (Core), not ORM objects: a report reads many and changes none."""
SOURCE_FIELDS = ("LeadSource", "hs_analytics_source", "lead_source")
"""Where the lead source is read when the policy maps no ``lead_source`` field."""
CAMPAIGN_FIELDS = ("Campaign", "Campaign__c", "CampaignName", "utm_campaign", "hs_analytics_source_data_1")
"""Where the campaign is read, first non-empty wins (the policy has no field mapping for it)."""


def qualified(connection: str, value: str | None) -> str | None:
    """``connection:value``, or None."""
    return None if value is None else f"{connection}:{value}"


def load_reps(session: Session) -> list[RepFacts]:
    """Every user and queue the store knows, with connection-qualified owner ids."""
    rows = session.execute(select(RepRow).order_by(RepRow.connection, RepRow.owner_id)).scalars()
    return [RepFacts(f"{r.connection}:{r.owner_id}", r.email, r.name, r.kind, r.timezone, r.connection) for r in rows]


def load_histories(session: Session, policy: Policy, period: Period, now: datetime) -> Iterator[LeadHistory]:
    """The histories of the leads relevant to ``period`` (see the module docstring), streamed by chunks.

    The leads moved since the period began are collected first (one index range, as many as the period's
    assignments); the others are found by a keyset scan of the lead table, then the moved leads the scan did
    not meet are read by their keys.
    """
    source_fields = _source_fields(policy)
    moved = _moved_since(session, period.start)
    after: tuple[str, str] | None = None
    while True:
        query = select(LEADS).where(_relevant(period)).order_by(LeadRow.connection, LeadRow.lead_id).limit(CHUNK)
        if after is not None:
            query = query.where(tuple_(LeadRow.connection, LeadRow.lead_id) > tuple_(*after))
        leads = list(session.execute(query))
        if not leads:
            break
        moved.difference_update((lead.connection, lead.lead_id) for lead in leads)
        yield from _histories(session, leads, source_fields, now)
        after = (leads[-1].connection, leads[-1].lead_id)
    remaining = sorted(moved)
    for start in range(0, len(remaining), CHUNK):
        yield from _histories(session, _leads_by_keys(session, remaining[start : start + CHUNK]), source_fields, now)


def _moved_since(session: Session, start: datetime) -> set[tuple[str, str]]:
    query = select(AssignmentRow.connection, AssignmentRow.lead_id).where(AssignmentRow.at >= start).distinct()
    return {(connection, lead_id) for connection, lead_id in session.execute(query)}


def _leads_by_keys(session: Session, keys: Sequence[tuple[str, str]]) -> list[Row[Any]]:
    found: list[Row[Any]] = []
    for connection, ids in _by_connection(keys).items():
        query = select(LEADS).where(LeadRow.connection == connection, LeadRow.lead_id.in_(ids))
        found.extend(session.execute(query.order_by(LeadRow.lead_id)))
    return found


def _by_connection(keys: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: defaultdict[str, list[str]] = defaultdict(list)
    for connection, lead_id in keys:
        grouped[connection].append(lead_id)
    return dict(grouped)


def _relevant(period: Period) -> Any:
    """Open MQLs (for the stale snapshot), and leads closed or created in the period."""
    open_mql = and_(
        LeadRow.mql.is_(True), LeadRow.converted.is_(False), LeadRow.deleted.is_(False), LeadRow.closed_at.is_(None)
    )
    closed = and_(LeadRow.closed_at >= period.start, LeadRow.closed_at < period.end)
    created = and_(LeadRow.created_at >= period.start, LeadRow.created_at < period.end)
    return or_(open_mql, closed, created)


def _histories(
    session: Session, leads: Sequence[Row[Any]], source_fields: Sequence[str], now: datetime
) -> Iterator[LeadHistory]:
    keys = [(lead.connection, lead.lead_id) for lead in leads]
    events: defaultdict[tuple[str, str], list[AssignmentFacts]] = defaultdict(list)
    touches: defaultdict[tuple[str, str], list[ActivityFacts]] = defaultdict(list)
    for connection, ids in _by_connection(keys).items():
        # No time filter or ORDER BY in SQL: with one, SQLite picks the (connection, at) index and reads every
        # assignment of the connection for each chunk. Events after ``now`` are dropped and order restored here.
        query = select(ASSIGNMENTS).where(AssignmentRow.connection == connection, AssignmentRow.lead_id.in_(ids))
        for a in sorted(session.execute(query), key=lambda row: (row.at, row.id)):
            if a.at <= now:
                events[(a.connection, a.lead_id)].append(_assignment(a))
        for t in session.execute(
            select(ACTIVITIES).where(ActivityRow.connection == connection, ActivityRow.lead_id.in_(ids))
            .where(ActivityRow.occurred_at <= now)
        ):  # fmt: skip
            touches[(t.connection, t.lead_id)].append(_activity(t))
    for lead in leads:
        key = (lead.connection, lead.lead_id)
        yield LeadHistory(_lead(lead, source_fields), tuple(events[key]), tuple(touches[key]))


def _lead(row: Row[Any], source_fields: Sequence[str]) -> LeadFacts:
    fields: Mapping[str, object] = row.fields or {}
    return LeadFacts(
        lead_id=f"{row.connection}:{row.lead_id}",
        owner_id=qualified(row.connection, row.owner_id),
        created_at=row.created_at,
        mql=bool(row.mql),
        fields=fields,
        source=_first(fields, source_fields),
        campaign=_first(fields, CAMPAIGN_FIELDS),
        status=row.status,
        sla_tier=row.sla_tier,
        assigned_at=row.assigned_at,
        converted=row.converted,
        deleted=row.deleted,
        closed_at=row.closed_at,
        disposition=row.disposition,
        connection=row.connection,
        closed_by_crmsync=bool((row.state_extras or {}).get("closed_by_crmsync")),
    )


def _assignment(row: Row[Any]) -> AssignmentFacts:
    return AssignmentFacts(
        lead_id=f"{row.connection}:{row.lead_id}",
        owner_id=qualified(row.connection, row.owner_id),
        previous_owner_id=qualified(row.connection, row.previous_owner_id),
        kind=row.kind,
        at=row.at,
        rule=row.rule,
        reason=row.reason,
    )


def _activity(row: Row[Any]) -> ActivityFacts:
    return ActivityFacts(
        lead_id=f"{row.connection}:{row.lead_id}",
        owner_id=qualified(row.connection, row.owner_id),
        channel=row.channel,
        direction=row.direction,
        occurred_at=row.occurred_at,
        automated=row.automated,
        duration_minutes=row.duration_minutes,
    )


def _source_fields(policy: Policy) -> tuple[str, ...]:
    mapped = policy.field_name("lead_source")
    return (mapped, *SOURCE_FIELDS) if mapped != "lead_source" else SOURCE_FIELDS


def _first(fields: Mapping[str, object], names: Sequence[str]) -> str | None:
    for name in names:
        value = fields.get(name)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None
