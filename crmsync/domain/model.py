"""What crmsync knows about a CRM, in vendor-neutral terms.

Every type here is frozen and holds only timezone-aware datetimes. Mapping from and to vendor payloads lives
in ``crmsync.crm.mapping``; nothing here knows a Salesforce or HubSpot field name except through ``fields``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Vendor(StrEnum):
    """Which CRM a connection talks to."""

    SALESFORCE = "salesforce"
    HUBSPOT = "hubspot"


class OwnerKind(StrEnum):
    """A person who can own leads, or a place where leads wait (SF Queue, HS owner of type QUEUE)."""

    USER = "user"
    QUEUE = "queue"


class Channel(StrEnum):
    """How a rep touched a lead."""

    EMAIL = "email"
    CALL = "call"
    MEETING = "meeting"
    OTHER = "other"


class Direction(StrEnum):
    """Outbound activity is a touch; inbound email from the lead is a reply."""

    OUTBOUND = "outbound"
    INBOUND = "inbound"


class ActivitySource(StrEnum):
    """Where crmsync learnt of an activity."""

    CRM = "crm"
    CAPTURE = "capture"


@dataclass(frozen=True, slots=True, order=True)
class LeadRef:
    """A lead's identity: the connection it lives in and its CRM id."""

    connection: str
    lead_id: str

    def __str__(self) -> str:
        return f"{self.connection}/{self.lead_id}"


@dataclass(frozen=True, slots=True)
class Owner:
    """A CRM user or queue that can own leads."""

    connection: str
    owner_id: str
    kind: OwnerKind
    name: str
    email: str | None = None
    active: bool = True
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class Lead:
    """A snapshot of one lead as the CRM last showed it.

    ``fields`` holds every pulled CRM field by its CRM name (HubSpot values arrive as strings); policy
    conditions read it through the policy's field mapping. ``status`` is the CRM's lead status
    (SF ``Status``, HS ``hs_lead_status``); ``closed`` flags mean every clock stops.
    """

    ref: LeadRef
    owner_id: str | None
    email: str | None
    status: str | None
    created_at: datetime
    modified_at: datetime
    fields: Mapping[str, object] = field(default_factory=dict)
    converted: bool = False
    deleted: bool = False

    @property
    def stopped(self) -> bool:
        """Converted, archived or deleted leads stop all clocks and are never moved."""
        return self.converted or self.deleted


@dataclass(frozen=True, slots=True)
class Activity:
    """One touch or reply on a lead.

    ``key`` is unique per connection: the CRM id for activities pulled from the CRM, or the capture key
    (Message-ID, or iCalendar UID + start) for captured ones. ``owner_id`` is the rep who did it.
    """

    connection: str
    key: str
    lead_id: str
    owner_id: str | None
    channel: Channel
    direction: Direction
    occurred_at: datetime
    source: ActivitySource
    automated: bool = False
    duration_minutes: int | None = None
    subject: str | None = None
    crm_id: str | None = None

    @property
    def is_touch(self) -> bool:
        """Outbound email, any call, or a held meeting counts as a touch; inbound mail is a reply."""
        return self.direction is Direction.OUTBOUND and self.channel is not Channel.OTHER

    @property
    def is_reply(self) -> bool:
        """Inbound mail from the lead."""
        return self.direction is Direction.INBOUND
