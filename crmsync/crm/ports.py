"""What the core needs from a CRM, and nothing else.

Salesforce, HubSpot and the sandbox's in-process mode implement :class:`CrmPort`. The sync stage streams
:class:`Page` values out of the ``pull_*`` methods and commits each page's rows together with its
``watermark`` (so a watermark never runs ahead of committed rows); the outbox dispatcher calls
:meth:`CrmPort.current_owners` once per batch and :meth:`CrmPort.apply` with at most
:meth:`CrmPort.batch_size` actions, and records each :class:`Outcome`.

Vendor exceptions never cross this seam: an adapter raises only :mod:`crmsync.errors` classes
(``AuthError`` / ``FatalError`` for the whole connection, ``RetriableError`` for the whole call) and reports
per-record failures as outcomes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

from crmsync.domain import Action, Activity, Lead, Owner, Vendor

T = TypeVar("T")


class PullObject(StrEnum):
    """The streams a connection pulls, each with its own watermark."""

    LEADS = "leads"
    OWNERS = "owners"
    ACTIVITIES = "activities"


@dataclass(frozen=True, slots=True, order=True)
class Watermark:
    """How far a stream has been read: records modified at ``instant``, up to and including ``last_id``.

    Ordering by (modified instant, id) makes paging stable when thousands of records share a timestamp.
    Both parts belong to the adapter that produced them: the store keeps them verbatim and hands them back
    (HubSpot puts its window end in ``last_id`` as ``"<epoch ms>:<last hs_object_id>"`` to resume a window).
    """

    instant: datetime
    last_id: str = ""


@dataclass(frozen=True, slots=True)
class Skip:
    """A record that could not be mapped, with its id and the reason; counted and logged, never fatal."""

    object: str
    record_id: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a pull: mapped records, the ones skipped, and the watermark reached after this page."""

    records: Sequence[T]
    skipped: Sequence[Skip] = ()
    watermark: Watermark | None = None


class OutcomeStatus(StrEnum):
    """What became of one action: landed, try again later, refused for good, or not applicable any more."""

    DONE = "done"
    RETRY = "retry"
    DEAD = "dead"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of applying one action. ``message`` is the CRM's own words for a failure (never a body)."""

    status: OutcomeStatus
    code: str | None = None
    message: str | None = None
    retry_after: float | None = None
    crm_id: str | None = None


@dataclass(frozen=True, slots=True)
class Budget:
    """The API quota as the CRM last reported it. ``None`` where the CRM has not said yet."""

    used: int | None = None
    limit: int | None = None
    burst_remaining: int | None = None
    calls_made: int = 0
    calls_by_endpoint: dict[str, int] = field(default_factory=dict)

    @property
    def used_fraction(self) -> float | None:
        """Share of the daily quota used, if known."""
        if self.used is None or not self.limit:
            return None
        return self.used / self.limit


class CrmPort(Protocol):
    """One connection to one CRM account."""

    @property
    def connection(self) -> str:
        """The connection's name (the first half of every LeadRef)."""
        ...

    @property
    def vendor(self) -> Vendor:
        """Which CRM this is."""
        ...

    def pull_leads(self, since: Watermark | None, until: datetime) -> Iterator[Page[Lead]]:
        """Leads modified after ``since`` and at or before ``until``, deletions included, oldest first."""
        ...

    def pull_owners(self) -> Iterator[Page[Owner]]:
        """Every user and queue that can own leads (owners are few; always pulled whole)."""
        ...

    def pull_activities(self, since: Watermark | None, until: datetime) -> Iterator[Page[Activity]]:
        """Touches and replies on leads modified in the window (SF Task/Event; HS emails/calls/meetings)."""
        ...

    def current_owners(self, lead_ids: Sequence[str]) -> dict[str, str | None]:
        """The owner of each lead right now, in one batched read; a lead that no longer exists is absent."""
        ...

    def batch_size(self, action: Action) -> int:
        """The most actions like ``action`` that one :meth:`apply` call may carry (SF 200, HS 100)."""
        ...

    def apply(self, actions: Sequence[Action]) -> list[Outcome]:
        """Apply a batch of same-kind actions; one outcome per action, in order."""
        ...

    def budget(self) -> Budget:
        """The quota as last reported by the CRM, and the calls this adapter has made."""
        ...

    def allow(self, priority: int) -> bool:
        """Whether work of ``priority`` (``outbox.model.Priority``) may spend API calls now.

        False once the budget's reserve is reached for that priority: SLA work keeps going longest, backfill
        stops first.
        """
        ...
