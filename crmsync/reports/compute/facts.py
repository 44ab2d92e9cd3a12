"""The plain inputs of the report computations, filled by :mod:`crmsync.reports.load` from the store. Pure.

They carry only values (strings, numbers, aware datetimes), so tests build them by hand and the
computations never see a database row. A :class:`LeadHistory` bundles one lead with its ownership history
and its activities; the computations read an iterable of them, one lead at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Period:
    """The half-open interval ``[start, end)`` a report covers; both ends timezone-aware."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a report period needs timezone-aware ends")
        if self.end <= self.start:
            raise ValueError("a report period must end after it starts")

    def contains(self, instant: datetime | None) -> bool:
        """True when ``instant`` lies in ``[start, end)``."""
        return instant is not None and self.start <= instant < self.end


@dataclass(frozen=True, slots=True)
class RepFacts:
    """A CRM user or queue that can own leads. ``kind`` is ``"user"`` or ``"queue"``.

    ``owner_id`` may be qualified as ``<connection>:<id>`` (the loader does so); holding-owner ids in the
    policy match it with or without that prefix.
    """

    owner_id: str
    email: str | None
    name: str
    kind: str = "user"
    timezone: str | None = None
    connection: str = "default"


@dataclass(frozen=True, slots=True)
class LeadFacts:
    """One lead as the store holds it now: CRM fields and the SLA state crmsync derived.

    ``source`` and ``campaign`` are already read out of ``fields`` through the policy's field mapping;
    ``fields`` is what the policy's "attractive" condition is evaluated on. ``closed_by_crmsync`` says the
    current close is crmsync's own (a recycle), not a rep's.
    """

    lead_id: str
    owner_id: str | None
    created_at: datetime
    mql: bool = True
    fields: Mapping[str, object] = field(default_factory=dict)
    source: str | None = None
    campaign: str | None = None
    status: str | None = None
    sla_tier: str | None = None
    assigned_at: datetime | None = None
    converted: bool = False
    deleted: bool = False
    closed_at: datetime | None = None
    disposition: str | None = None
    connection: str = "default"
    closed_by_crmsync: bool = False


@dataclass(frozen=True, slots=True)
class ActivityFacts:
    """One activity on a lead. ``channel`` is email|call|meeting|other, ``direction`` outbound|inbound."""

    lead_id: str
    owner_id: str | None
    channel: str
    direction: str
    occurred_at: datetime
    automated: bool = False
    duration_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class AssignmentFacts:
    """One entry of a lead's ownership history. ``kind`` is route|reassign|hide|recycle|reopen|seen."""

    lead_id: str
    owner_id: str | None
    previous_owner_id: str | None
    kind: str
    at: datetime
    rule: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class LeadHistory:
    """A lead with its whole ownership history and its activities (any order; the computations sort)."""

    lead: LeadFacts
    assignments: tuple[AssignmentFacts, ...] = ()
    activities: tuple[ActivityFacts, ...] = ()
