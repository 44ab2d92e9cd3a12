"""Builders for store tests: leads and activities with sensible defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from crmsync.domain import Activity, ActivitySource, Channel, Direction, Lead, LeadRef

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
CONN = "sf-prod"


def make_lead(lead_id: str, *, connection: str = CONN, **changes: Any) -> Lead:
    """A lead created an hour before NOW, owned by ``005A``, unless ``changes`` say otherwise."""
    values: dict[str, Any] = {
        "ref": LeadRef(connection, lead_id),
        "owner_id": "005A",
        "email": f"{lead_id}@example.com",
        "status": "Open",
        "created_at": NOW - timedelta(hours=1),
        "modified_at": NOW - timedelta(hours=1),
        "fields": {"Company": "Acme", "Score": 70},
    }
    values.update(changes)
    return Lead(**values)


def make_activity(key: str, lead_id: str, *, connection: str = CONN, **changes: Any) -> Activity:
    """An outbound email from the CRM at NOW, unless ``changes`` say otherwise."""
    values: dict[str, Any] = {
        "connection": connection,
        "key": key,
        "lead_id": lead_id,
        "owner_id": "005A",
        "channel": Channel.EMAIL,
        "direction": Direction.OUTBOUND,
        "occurred_at": NOW,
        "source": ActivitySource.CRM,
        "crm_id": key,
    }
    values.update(changes)
    return Activity(**values)
