"""Match captured mail and meetings to leads and reps (pure: a function of its arguments, ``now`` included).

Rules, in the order they are applied to one item:

1. **Addresses** are compared normalised (bare ``local@domain``, lower-case). A lead is found by its exact
   address first; only if that finds nothing is a ``+tag`` folded away (``bob+crm@x.test`` → ``bob@x.test``).
   Folding is tried on every domain, not only Gmail-like ones, because Google Workspace and Microsoft 365
   both deliver plus-addressed mail; an exact match always wins, so a lead whose address really contains a
   ``+`` is still found. Gmail's dot-insensitivity is not folded: Gmail domains are personal domains.
2. **Participants** are classified: *internal* (a rep's address, or a domain in ``internal_domains``, or the
   domain of any rep's address unless it is a personal domain), *never-log*, *personal*, else *external*.
   Only external participants can match leads; never-log and personal addresses never do, even when a lead
   has that address. A journal/BCC mailbox's own address is not a participant.
3. **Skips**: bounces (``MAILER-DAEMON``/``postmaster`` senders, ``multipart/report`` delivery-status
   reports) are dropped; a message whose participants are all internal is internal-only; one with
   no external participant left is ignored as never-log or personal; cancelled events, and events every
   matched lead (or the rep) declined, do not count; a meeting that has not ended yet is *scheduled*.
4. **Direction**: mail sent by an internal address (or read from a rep mailbox's Sent folder) is outbound,
   a touch on every lead among its recipients; mail from an external address that is a lead is inbound, a
   reply by that lead only. A meeting with a lead is always a touch once held.
5. **Rep**: for outbound mail the sender's rep, else the mailbox owner's; for inbound mail the first rep
   among the recipients, else the mailbox owner's; for meetings the organizer if a rep, else the calendar
   owner, else the first attending rep. ``owner_id`` is ``None`` when no rep is known.
6. **Automated** mail is kept but marked: ``Auto-Submitted`` other than ``no``, ``Precedence``
   bulk/list/junk/auto_reply, a ``List-Id``, an ``X-Autoreply``, a ``multipart/report`` (read receipts), an
   empty Return-Path (RFC 3834 auto-replies use a null sender, so an out-of-office answer is marked rather
   than dropped as a bounce), or a sender in ``sequence_senders`` (an address, or a bare domain for every
   sender in it).
7. **De-duplication**: one message yields one activity per matched lead whose key
   (:func:`activity_key`) depends only on the capture key and the lead, so the same message seen in two
   folders or mailboxes yields the same keys; :func:`match_batch` also drops repeats within a batch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from crmsync.capture.indexes import CaptureSection, LeadIndex, MatchOptions, rep_index
from crmsync.capture.model import (
    CapturedEvent,
    CapturedMessage,
    EventStatus,
    PartStat,
    address_domain,
    apply_body_policy,
)
from crmsync.domain import Activity, ActivitySource, Channel, Direction, LeadRef, LogActivity

__all__ = [
    "CaptureMatch",
    "CaptureSection",
    "ContactCandidate",
    "LeadIndex",
    "MatchOptions",
    "MatchOutcome",
    "SkipReason",
    "activity_key",
    "is_automated",
    "is_bounce",
    "match_batch",
    "match_event",
    "match_message",
    "rep_index",
]

_BOUNCE_LOCALS = frozenset({"mailer-daemon", "postmaster"})
_BULK_PRECEDENCE = frozenset({"bulk", "list", "junk", "auto_reply"})


class SkipReason(StrEnum):
    """Why an item produced no activity."""

    BOUNCE = "bounce"
    INTERNAL_ONLY = "internal_only"
    NEVER_LOG = "never_log"
    PERSONAL = "personal"
    NO_SENDER = "no_sender"
    NO_LEAD = "no_lead"
    CANCELLED = "cancelled"
    DECLINED = "declined"
    SCHEDULED = "scheduled"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class CaptureMatch:
    """One captured activity on one lead, and the action that logs it in the CRM."""

    activity: Activity
    log: LogActivity


@dataclass(frozen=True, slots=True)
class ContactCandidate:
    """An external address with no lead whose domain belongs to an account (policy may create the contact)."""

    connection: str
    account_id: str
    address: str


@dataclass(frozen=True, slots=True)
class MatchOutcome:
    """What one item yielded: matches, or the reason for none; ``lead_ids`` also lists scheduled meetings'."""

    capture_key: str
    matches: tuple[CaptureMatch, ...] = ()
    skipped: SkipReason | None = None
    automated: bool = False
    lead_ids: tuple[str, ...] = ()
    contact_candidates: tuple[ContactCandidate, ...] = ()


def activity_key(capture_key: str, lead_id: str) -> str:
    """The activity's key (and CRM external id): 45 characters, the same wherever the item was seen."""
    digest = hashlib.sha256(f"{capture_key}\x00{lead_id}".encode()).hexdigest()
    return "cap1-" + digest[:40]


class _Kind(StrEnum):
    INTERNAL = "internal"
    NEVER_LOG = "never_log"
    PERSONAL = "personal"
    EXTERNAL = "external"


@dataclass(frozen=True, slots=True)
class _Context:
    leads: LeadIndex
    reps: Mapping[str, str]
    options: MatchOptions
    internal: frozenset[str]

    def kind(self, address: str) -> _Kind:
        if address in self.reps:
            return _Kind.INTERNAL
        domain = address_domain(address)
        if domain in self.internal:
            return _Kind.INTERNAL
        if domain in self.options.never_log_domains:
            return _Kind.NEVER_LOG
        if domain in self.options.personal_domains:
            return _Kind.PERSONAL
        return _Kind.EXTERNAL


def _context(leads: LeadIndex, reps: Mapping[str, str], options: MatchOptions) -> _Context:
    rep_domains = {address_domain(a) for a in reps} - options.personal_domains
    return _Context(leads, reps, options, options.internal_domains | rep_domains)


def _empty_reason(kinds: Collection[_Kind]) -> SkipReason:
    """Why a set of participants has no external address."""
    if _Kind.NEVER_LOG in kinds:
        return SkipReason.NEVER_LOG
    if _Kind.PERSONAL in kinds:
        return SkipReason.PERSONAL
    return SkipReason.INTERNAL_ONLY


def is_bounce(message: CapturedMessage) -> bool:
    """A delivery report: from MAILER-DAEMON/postmaster, or a ``multipart/report`` of delivery status."""
    sender = message.sender or ""
    if sender.rpartition("@")[0] in _BOUNCE_LOCALS:
        return True
    content_type = (message.automation.content_type or "").lower()
    return content_type.startswith("multipart/report") and "delivery-status" in content_type


def is_automated(message: CapturedMessage, options: MatchOptions) -> bool:
    """Machine-sent mail (rule 6 of the module docstring)."""
    auto = message.automation
    if auto.auto_submitted and auto.auto_submitted.strip().lower() != "no":
        return True
    if auto.precedence and auto.precedence.strip().lower() in _BULK_PRECEDENCE:
        return True
    if auto.list_id or auto.x_autoreply or (auto.return_path or "").strip() == "<>":
        return True
    if (auto.content_type or "").lower().startswith("multipart/report"):
        return True  # read receipts and other machine reports that are not bounces
    sender = message.sender or ""
    seq = options.sequence_senders
    return bool(sender) and (sender in seq or address_domain(sender) in seq)


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _candidates(ctx: _Context, addresses: Iterable[str]) -> tuple[ContactCandidate, ...]:
    if not ctx.options.create_missing_contacts:
        return ()
    found = []
    for address in addresses:
        account = ctx.leads.account_domains.get(address_domain(address))
        if account is not None:
            found.append(ContactCandidate(ctx.leads.connection, account, address))
    return tuple(found)


def _route(message: CapturedMessage, ctx: _Context) -> SkipReason | tuple[bool, list[str]]:
    """(outbound?, addresses to look leads up by), or why the message cannot be about a lead (rules 2-4)."""
    own = message.mailbox_owner if message.journal else None
    people = _unique(([message.sender] if message.sender else []) + list(message.recipients))
    kinds = {a: ctx.kind(a) for a in people if a != own}
    externals = [a for a, k in kinds.items() if k is _Kind.EXTERNAL]
    if not externals:
        return _empty_reason(set(kinds.values()))
    sender = message.sender
    if sender is None:
        return SkipReason.NO_SENDER
    sender_kind = kinds.get(sender, _Kind.INTERNAL)
    outbound = sender_kind is _Kind.INTERNAL or (message.sent_folder and not message.journal)
    if not outbound and sender_kind is not _Kind.EXTERNAL:
        return _empty_reason({sender_kind})
    return outbound, ([a for a in externals if a != sender] if outbound else [sender])


def match_message(
    message: CapturedMessage,
    leads: LeadIndex,
    reps: Mapping[str, str],
    options: MatchOptions,
) -> MatchOutcome:
    """Match one mail message (rules 1-6); returns activities and LogActivity actions, or a skip reason."""
    key = message.capture_key
    if is_bounce(message):
        return MatchOutcome(key, skipped=SkipReason.BOUNCE, automated=True)
    automated = is_automated(message, options)
    ctx = _context(leads, reps, options)
    routed = _route(message, ctx)
    if isinstance(routed, SkipReason):
        return MatchOutcome(key, skipped=routed, automated=automated)
    outbound, targets = routed
    lead_ids = _unique(lead for a in targets for lead in leads.find(a))
    if not lead_ids:
        missing = _candidates(ctx, targets)
        return MatchOutcome(key, skipped=SkipReason.NO_LEAD, automated=automated, contact_candidates=missing)
    spec = _Spec(
        connection=leads.connection,
        capture_key=key,
        owner=_message_owner(message, reps, outbound),
        channel=Channel.EMAIL,
        direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
        when=message.date,
        subject=message.subject,
        body=apply_body_policy(message.body, options.body),
        automated=automated,
    )
    return MatchOutcome(key, matches=_build(spec, lead_ids), automated=automated, lead_ids=lead_ids)


def _message_owner(message: CapturedMessage, reps: Mapping[str, str], outbound: bool) -> str | None:
    mailbox_rep = reps.get(message.mailbox_owner or "") if not message.journal else None
    if outbound:
        return reps.get(message.sender or "") or mailbox_rep
    for address in message.recipients:
        if address in reps:
            return reps[address]
    return mailbox_rep


@dataclass(frozen=True, slots=True)
class _Spec:
    """What every activity built from one item shares."""

    connection: str
    capture_key: str
    owner: str | None
    channel: Channel
    direction: Direction
    when: datetime
    subject: str
    body: str | None
    automated: bool = False
    duration: int | None = None


def _build(spec: _Spec, lead_ids: Iterable[str]) -> tuple[CaptureMatch, ...]:
    """One activity and its LogActivity per lead, keyed by :func:`activity_key`."""
    matches = []
    for lead_id in lead_ids:
        key = activity_key(spec.capture_key, lead_id)
        activity = Activity(
            connection=spec.connection,
            key=key,
            lead_id=lead_id,
            owner_id=spec.owner,
            channel=spec.channel,
            direction=spec.direction,
            occurred_at=spec.when,
            source=ActivitySource.CAPTURE,
            automated=spec.automated,
            duration_minutes=spec.duration,
            subject=spec.subject or None,
        )
        log = LogActivity(
            lead=LeadRef(spec.connection, lead_id),
            capture_key=key,
            owner_id=spec.owner,
            channel=spec.channel,
            direction=spec.direction,
            occurred_at=spec.when,
            subject=spec.subject,
            body=spec.body,
            duration_minutes=spec.duration,
        )
        matches.append(CaptureMatch(activity, log))
    return tuple(matches)


def _event_rep(event: CapturedEvent, reps: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(rep address, owner id) per rule 5."""
    for address in (event.organizer, event.calendar_owner):
        if address and address in reps:
            return address, reps[address]
    for attendee in event.attendees:
        if attendee.email in reps and attendee.partstat is not PartStat.DECLINED:
            return attendee.email, reps[attendee.email]
    return None, None


def match_event(
    event: CapturedEvent,
    leads: LeadIndex,
    reps: Mapping[str, str],
    options: MatchOptions,
    now: datetime,
) -> MatchOutcome:
    """Match one meeting occurrence: a touch on each attending lead once it has ended (``end <= now``)."""
    key = event.capture_key
    if event.status is EventStatus.CANCELLED:
        return MatchOutcome(key, skipped=SkipReason.CANCELLED)
    ctx = _context(leads, reps, options)
    kinds = {a: ctx.kind(a) for a in event.participants}
    externals = [a for a, k in kinds.items() if k is _Kind.EXTERNAL]
    if not externals:
        return MatchOutcome(key, skipped=_empty_reason(set(kinds.values())))
    invited = _unique(lead for a in externals for lead in leads.find(a))
    attending = [a for a in externals if event.partstat_of(a) is not PartStat.DECLINED]
    lead_ids = _unique(lead for a in attending for lead in leads.find(a))
    if not invited:
        return MatchOutcome(key, skipped=SkipReason.NO_LEAD, contact_candidates=_candidates(ctx, externals))
    rep_address, owner = _event_rep(event, reps)
    rep_declined = rep_address is not None and event.partstat_of(rep_address) is PartStat.DECLINED
    if not lead_ids or rep_declined:
        return MatchOutcome(key, skipped=SkipReason.DECLINED, lead_ids=invited)
    if not event.has_happened(now):
        return MatchOutcome(key, skipped=SkipReason.SCHEDULED, lead_ids=lead_ids)
    spec = _Spec(
        connection=leads.connection,
        capture_key=key,
        owner=owner,
        channel=Channel.MEETING,
        direction=Direction.OUTBOUND,
        when=event.start,
        subject=event.summary,
        body=apply_body_policy(event.body, options.body),
        duration=event.duration_minutes,
    )
    matches = _build(spec, lead_ids)
    return MatchOutcome(key, matches=matches, lead_ids=lead_ids)


def match_batch(
    items: Iterable[CapturedMessage | CapturedEvent],
    leads: LeadIndex,
    reps: Mapping[str, str],
    options: MatchOptions,
    now: datetime,
    seen: Collection[str] = (),
) -> list[MatchOutcome]:
    """Match items in order; an item whose capture key is in ``seen`` or earlier in the batch is a duplicate."""
    done = set(seen)
    outcomes = []
    for item in items:
        if item.capture_key in done:
            outcomes.append(MatchOutcome(item.capture_key, skipped=SkipReason.DUPLICATE))
            continue
        done.add(item.capture_key)
        if isinstance(item, CapturedEvent):
            outcomes.append(match_event(item, leads, reps, options, now))
        else:
            outcomes.append(match_message(item, leads, reps, options))
    return outcomes
