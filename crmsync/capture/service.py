"""One capture pass over a source: read what is new, match it, hand matches to a sink, then move the cursor.

The order is what makes a crash harmless: a chunk's matches are handed to the :class:`ActivitySink` (which
stores them durably and ignores activity keys it already has) *before* the chunk's cursor is saved. A crash
in between re-reads that chunk next time, and the sink drops the repeats. The store's sink
(:class:`crmsync.capture.store_sink.StoreSink`) keeps the activities and their LogActivity outbox rows.

Leads are looked up per chunk when the :class:`Matcher` has a :class:`LeadDirectory` (the store's): one
query for the addresses of a chunk of messages, so a pass costs what it reads, not the org's size.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

import structlog

from crmsync.capture.calendar import CalDavReader, CalendarBatch, IcsReader
from crmsync.capture.cursors import CursorStore
from crmsync.capture.imap import ImapReader
from crmsync.capture.matching import (
    CaptureMatch,
    LeadIndex,
    MatchOptions,
    MatchOutcome,
    match_batch,
    match_message,
)
from crmsync.capture.model import CapturedEvent, CapturedMessage

log = structlog.get_logger(__name__)

CALENDAR_FOLDER = "calendar"
"""The cursor ``folder`` name of a calendar source (a calendar source has one stream)."""


class ActivitySink(Protocol):
    """Takes matched activities and keeps each activity key once."""

    def add(self, matches: Sequence[CaptureMatch]) -> int:
        """Store ``matches`` durably, skipping keys already stored; return how many were new."""
        ...


class InMemorySink:
    """An :class:`ActivitySink` in a dict keyed by activity key, for tests and dry runs."""

    def __init__(self) -> None:
        self.stored: dict[str, CaptureMatch] = {}

    def add(self, matches: Sequence[CaptureMatch]) -> int:
        new = 0
        for match in matches:
            if match.activity.key not in self.stored:
                self.stored[match.activity.key] = match
                new += 1
        return new


@dataclass
class CaptureStats:
    """What one pass did: items read, activities matched and newly stored, and skips by reason.

    A connection-wide run (:func:`crmsync.capture.job.run_capture`) also fills ``sources`` (read without
    error), ``failed`` (source names that raised; the others still ran) and ``logged`` / ``not_logged``
    (LogActivity rows the dispatcher landed / left for a retry or dead).
    """

    read: int = 0
    matched: int = 0
    stored: int = 0
    rescans: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    sources: int = 0
    failed: list[str] = field(default_factory=list)
    logged: int = 0
    not_logged: int = 0

    def merge(self, other: CaptureStats) -> None:
        """Add another pass's counts to these."""
        self.read += other.read
        self.matched += other.matched
        self.stored += other.stored
        self.rescans += other.rescans
        self.skipped.update(other.skipped)
        self.sources += other.sources
        self.failed.extend(other.failed)
        self.logged += other.logged
        self.not_logged += other.not_logged

    def count(self, outcomes: Sequence[MatchOutcome], stored: int) -> None:
        """Add one batch's outcomes."""
        self.read += len(outcomes)
        self.matched += sum(len(o.matches) for o in outcomes)
        self.stored += stored
        self.skipped.update(o.skipped.value for o in outcomes if o.skipped is not None)


class LeadDirectory(Protocol):
    """Finds the leads of a set of addresses (the store implements it with one indexed query)."""

    def index_for(self, addresses: Collection[str]) -> LeadIndex:
        """A :class:`LeadIndex` of every live lead whose address, or its ``+tag``-folded form, is given."""
        ...


def item_addresses(items: Iterable[CapturedMessage | CapturedEvent]) -> set[str]:
    """Every participant address of ``items`` (senders, recipients, organizers, attendees)."""
    found: set[str] = set()
    for item in items:
        if isinstance(item, CapturedEvent):
            found.update(item.participants)
        else:
            found.update(item.recipients)
            if item.sender:
                found.add(item.sender)
    return found


@dataclass(frozen=True, slots=True)
class Matcher:
    """The matching inputs for one connection: leads, reps (email → owner id) and options.

    With a ``directory``, ``leads`` is replaced per chunk by :meth:`narrowed`; without, ``leads`` is used
    as given (tests, the benchmark's in-memory index).
    """

    leads: LeadIndex
    reps: Mapping[str, str]
    options: MatchOptions
    directory: LeadDirectory | None = None

    def narrowed(self, items: Iterable[CapturedMessage | CapturedEvent]) -> Matcher:
        """This matcher with ``leads`` looked up for the items' addresses (itself when there is no directory)."""
        if self.directory is None:
            return self
        return replace(self, leads=self.directory.index_for(item_addresses(items)))


def capture_mailbox(
    reader: ImapReader, matcher: Matcher, cursors: CursorStore, sink: ActivitySink, now: datetime
) -> CaptureStats:
    """Read every configured folder of a connected reader from its cursor on; see the module docstring."""
    stats = CaptureStats()
    source = reader.source
    current = [matcher]

    def headers_seen(messages: Sequence[CapturedMessage]) -> None:
        current[0] = matcher.narrowed(messages)

    def wants_body(message: CapturedMessage) -> bool:
        m = current[0]
        return bool(match_message(message, m.leads, m.reps, m.options).matches)

    for folder in reader.resolve_folders():
        cursor = cursors.get_cursor(source.connection, source.name, folder.name)
        rescanned = False
        for chunk in reader.read_folder(folder, cursor, wants_body, headers_seen):
            m = current[0]
            outcomes = match_batch(chunk.messages, m.leads, m.reps, m.options, now)
            stored = sink.add([m for o in outcomes for m in o.matches])
            cursors.set_cursor(source.connection, source.name, folder.name, chunk.cursor)
            stats.count(outcomes, stored)
            if chunk.rescan and not rescanned:
                stats.rescans += 1
                rescanned = True
    log.info(
        "capture_mailbox_done",
        source=source.name,
        read=stats.read,
        matched=stats.matched,
        stored=stats.stored,
        skipped=dict(stats.skipped),
    )
    return stats


def capture_calendar(
    reader: CalDavReader | IcsReader, matcher: Matcher, cursors: CursorStore, sink: ActivitySink, now: datetime
) -> CaptureStats:
    """Read a calendar source once; held meetings with leads go to the sink, then the cursor moves."""
    source = reader.source
    batch: CalendarBatch
    if isinstance(reader, CalDavReader):
        batch = reader.read(cursors.get_cursor(source.connection, source.name, CALENDAR_FOLDER), now)
    else:
        batch = reader.read(now)
    events: list[CapturedEvent] = list(batch.events)
    m = matcher.narrowed(events)
    outcomes = match_batch(events, m.leads, m.reps, m.options, now)
    stats = CaptureStats()
    stats.count(outcomes, sink.add([m for o in outcomes for m in o.matches]))
    if batch.cursor is not None:
        cursors.set_cursor(source.connection, source.name, CALENDAR_FOLDER, batch.cursor)
    log.info(
        "capture_calendar_done",
        source=source.name,
        mode=batch.mode,
        read=stats.read,
        matched=stats.matched,
        stored=stats.stored,
        skipped=dict(stats.skipped),
    )
    return stats
