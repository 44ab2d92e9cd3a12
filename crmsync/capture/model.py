"""What capture reads from mailboxes and calendars, as frozen values (pure: no I/O, no clock).

A :class:`CapturedMessage` is one mail message as seen in one folder of one mailbox; a :class:`CapturedEvent`
is one occurrence of a calendar event (recurring events are expanded into occurrences first). Both carry a
``capture_key`` that is the same wherever the item is seen, so the same message in INBOX and Sent, in two
reps' mailboxes or in a journal mailbox de-duplicates to one touch:

- mail: ``mid:`` + the normalised Message-ID (angle brackets and whitespace dropped, domain part
  lower-cased); a message without a Message-ID gets ``nomid:`` + a hash of sender, date and subject;
- calendar: ``ical:`` + the iCalendar UID + ``@`` + the occurrence's start instant in UTC
  (``20260302T140000Z``), so each occurrence of a recurring meeting is its own touch.

Only what the body policy allows is ever put in ``body`` (see :func:`apply_body_policy`); addresses are stored
normalised (see :func:`normalise_address`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

SNIPPET_CHARS = 300
FULL_BODY_CHARS = 32_000
"""Longest body kept under ``full``: Salesforce's Task Description holds 32,000 characters."""

_WS = re.compile(r"\s+")


class BodyPolicy(StrEnum):
    """How much of a message body or event description crmsync may store and send to the CRM."""

    NONE = "none"
    SNIPPET = "snippet"
    FULL = "full"


class EventStatus(StrEnum):
    """iCalendar ``STATUS`` of an event occurrence (a missing status is confirmed)."""

    CONFIRMED = "confirmed"
    TENTATIVE = "tentative"
    CANCELLED = "cancelled"


class PartStat(StrEnum):
    """An attendee's ``PARTSTAT`` (RFC 5545 §3.2.12); unknown values read as needs-action."""

    NEEDS_ACTION = "needs-action"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    TENTATIVE = "tentative"
    DELEGATED = "delegated"


@dataclass(frozen=True, slots=True)
class AutomationHeaders:
    """The headers that tell machine-sent mail from a person's (values as sent, stripped; ``None`` if absent)."""

    auto_submitted: str | None = None
    precedence: str | None = None
    list_id: str | None = None
    x_autoreply: str | None = None
    return_path: str | None = None
    content_type: str | None = None


@dataclass(frozen=True, slots=True)
class CapturedMessage:
    """One mail message as read from one folder.

    ``mailbox_owner`` is the normalised address of the rep whose mailbox it is, or of the journal/BCC mailbox
    (``journal`` true). ``sent_folder`` says it was read from the mailbox's Sent folder. ``body`` holds at
    most what the body policy allowed when the message was read.
    """

    capture_key: str
    mailbox_owner: str | None
    journal: bool
    folder: str
    uid: int
    sender: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    bcc: tuple[str, ...]
    subject: str
    date: datetime
    automation: AutomationHeaders = AutomationHeaders()
    sent_folder: bool = False
    body: str | None = None

    @property
    def recipients(self) -> tuple[str, ...]:
        """To, Cc and Bcc in that order, without repeats."""
        return tuple(dict.fromkeys((*self.to, *self.cc, *self.bcc)))


@dataclass(frozen=True, slots=True)
class Attendee:
    """An event attendee: normalised address and participation status."""

    email: str
    partstat: PartStat = PartStat.NEEDS_ACTION


@dataclass(frozen=True, slots=True)
class CapturedEvent:
    """One occurrence of a calendar event, with UTC start and end."""

    capture_key: str
    uid: str
    calendar_owner: str | None
    organizer: str | None
    attendees: tuple[Attendee, ...]
    summary: str
    start: datetime
    end: datetime
    status: EventStatus = EventStatus.CONFIRMED
    body: str | None = None

    def partstat_of(self, email: str) -> PartStat | None:
        """The participation status of attendee ``email`` (normalised), or ``None`` if not invited."""
        for attendee in self.attendees:
            if attendee.email == email:
                return attendee.partstat
        return None

    @property
    def participants(self) -> tuple[str, ...]:
        """Organizer then attendees, without repeats."""
        first = (self.organizer,) if self.organizer else ()
        return tuple(dict.fromkeys((*first, *(a.email for a in self.attendees))))

    @property
    def duration_minutes(self) -> int:
        """Whole minutes between start and end (never negative)."""
        return max(0, int((self.end - self.start).total_seconds() // 60))

    def has_happened(self, now: datetime) -> bool:
        """A meeting counts once it is over: its end is not after ``now``."""
        return self.end <= now


def normalise_address(raw: str | None) -> str | None:
    """A bare, lower-cased ``local@domain`` (display names, angle brackets, ``mailto:`` and spaces dropped).

    Returns ``None`` for anything that is not an address (no ``@``, empty local part or domain).
    """
    if not raw:
        return None
    text = raw.strip()
    if "<" in text and ">" in text:
        text = text[text.rfind("<") + 1 : text.rfind(">")]
    text = text.strip().strip("<>").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain or " " in text:
        return None
    return f"{local.lower()}@{domain.lower().rstrip('.')}"


def address_domain(address: str) -> str:
    """The domain part of a normalised address."""
    return address.rpartition("@")[2]


def fold_plus_tag(address: str) -> str:
    """``bob+crm@x.test`` → ``bob@x.test``; an address without a ``+`` tag is returned unchanged."""
    local, _, domain = address.rpartition("@")
    base = local.split("+", 1)[0]
    return f"{base}@{domain}" if base else address


def message_key(message_id: str | None, *, sender: str | None, date: datetime, subject: str) -> str:
    """The capture key of a mail message (see the module docstring)."""
    if message_id:
        text = _WS.sub("", message_id).strip("<>")
        local, at, domain = text.rpartition("@")
        if text:
            return f"mid:{local}@{domain.lower()}" if at else f"mid:{text}"
    seed = f"{sender or ''}\n{date.astimezone(UTC).isoformat()}\n{subject}"
    return "nomid:" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:32]


def event_key(uid: str, start: datetime) -> str:
    """The capture key of one event occurrence: UID plus start instant in UTC."""
    return f"ical:{uid.strip()}@{start.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}"


def fold_whitespace(text: str) -> str:
    """Runs of whitespace (newlines included) become one space; ends stripped."""
    return _WS.sub(" ", text).strip()


def apply_body_policy(text: str | None, policy: BodyPolicy) -> str | None:
    """What may be kept of a plain-text body: nothing, a snippet, or the text capped at ``FULL_BODY_CHARS``.

    A snippet is the text with whitespace folded, cut at a word boundary to at most ``SNIPPET_CHARS``
    characters (ellipsis included). Applying the same policy twice changes nothing.
    """
    if text is None or policy is BodyPolicy.NONE:
        return None
    if policy is BodyPolicy.SNIPPET:
        folded = fold_whitespace(text[: SNIPPET_CHARS * 8])
        if len(folded) <= SNIPPET_CHARS:
            return folded
        cut = folded[: SNIPPET_CHARS - 1]
        space = cut.rfind(" ")
        return (cut[:space] if space > SNIPPET_CHARS // 2 else cut) + "…"
    return text.strip()[:FULL_BODY_CHARS]


def is_aware(value: datetime) -> bool:
    """True when ``value`` carries a UTC offset."""
    return value.tzinfo is not None and value.utcoffset() is not None
