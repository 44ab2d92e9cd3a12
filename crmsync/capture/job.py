"""One capture run for one connection: read every configured source, store and queue, then dispatch.

:func:`run_capture` is what ``crmsync capture --once`` and the daemon's scheduler (every
``capture_interval_s``) call::

    stats = run_capture(runtime, "acme-sf")            # → CaptureStats

It reads the policy in force (body option, never-log and personal domains, sequence senders), the roster of
reps from the store, and then each source of the connection in the order the settings list them
(``settings.capture.sources``). Leads are looked up in the store chunk by chunk. Matches go to a
:class:`~crmsync.capture.store_sink.StoreSink` (activities + due leads + outbox rows, one transaction) before
the source's cursor moves. A source that fails (server down, login refused, a folder that does not exist) is
logged with its name and error class and counted in ``stats.failed``; the other sources still run. Finally,
unless ``dispatch=False``, the connection's dispatcher (the cycle's, with its premise checks) drains what is
due, and LogActivity outcomes are counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import structlog
from sqlalchemy.orm import Session

from crmsync.capture.calendar import CalDavReader, IcsReader
from crmsync.capture.cursors import CursorStore
from crmsync.capture.imap import ImapReader
from crmsync.capture.matching import LeadIndex, MatchOptions
from crmsync.capture.model import BodyPolicy
from crmsync.capture.service import ActivitySink, CaptureStats, Matcher, capture_calendar, capture_mailbox
from crmsync.capture.settings import CalDavSource, CaptureSettings, CaptureSource, ImapSource
from crmsync.capture.store_sink import StoreLeadDirectory, StoreSink, load_reps
from crmsync.clock import Clock
from crmsync.crm.ports import Outcome
from crmsync.domain import Action, LogActivity
from crmsync.errors import ConfigError, CrmsyncError
from crmsync.outbox.dispatcher import mark_logged_activities
from crmsync.runtime import Runtime
from crmsync.store.repositories.coordination import DatabaseCursorStore

log = structlog.get_logger(__name__)

LOG_KIND = "logactivity"


def sources_for(capture: CaptureSettings, connection: str) -> list[CaptureSource]:
    """The sources configured for ``connection``, in settings order."""
    return [s for s in capture.sources if s.connection == connection]


def check_sources(capture: CaptureSettings, connections: Sequence[str]) -> None:
    """Raise ConfigError naming every source whose connection is not configured."""
    problems = [
        f"capture.sources.{s.name}: unknown connection {s.connection!r}; configured: {', '.join(connections)}"
        for s in capture.sources
        if s.connection not in connections
    ]
    if problems:
        raise ConfigError(problems)


def capture_source(
    source: CaptureSource, matcher: Matcher, cursors: CursorStore, sink: ActivitySink, clock: Clock
) -> CaptureStats:
    """Read one source once (connect, read from its cursor, store, move the cursor, disconnect)."""
    body = matcher.options.body
    if isinstance(source, ImapSource):
        with ImapReader(source, body=body, clock=clock) as reader:
            return capture_mailbox(reader, matcher, cursors, sink, clock.now())
    if isinstance(source, CalDavSource):
        return capture_calendar(CalDavReader(source, body=body), matcher, cursors, sink, clock.now())
    return capture_calendar(IcsReader(source, body=body), matcher, cursors, sink, clock.now())


def capture_sources(
    sources: Sequence[CaptureSource], matcher: Matcher, cursors: CursorStore, sink: ActivitySink, clock: Clock
) -> CaptureStats:
    """Every source in turn; a failing source is logged and listed in ``failed``, the others still run."""
    total = CaptureStats()
    for source in sources:
        try:
            stats = capture_source(source, matcher, cursors, sink, clock)
        except CrmsyncError as err:
            log.error("capture_source_failed", source=source.name, kind=source.kind, error=type(err).__name__)
            total.failed.append(source.name)
            continue
        stats.sources = 1
        total.merge(stats)
    return total


def build_matcher(runtime: Runtime, connection: str) -> Matcher:
    """The connection's matcher: the policy's capture options, the stored reps, the store's lead lookup."""
    options = MatchOptions.from_policy(runtime.policy.current.capture)
    reps = load_reps(runtime.db, connection)
    return Matcher(LeadIndex(connection, {}), reps, options, StoreLeadDirectory(runtime.db, connection))


def run_capture(runtime: Runtime, connection: str, *, dispatch: bool = True) -> CaptureStats:
    """Capture every source of ``connection`` once, then (by default) dispatch; see the module docstring.

    Raises ConfigError when the connection is not configured. Source failures do not raise (see ``failed``);
    a FatalError of the CRM during dispatch does (the connection needs an operator).
    """
    runtime.connection(connection)
    sources = sources_for(runtime.settings.capture, connection)
    matcher = build_matcher(runtime, connection)
    sink = StoreSink(
        runtime.db, runtime.clock, connection, body=BodyPolicy(matcher.options.body), policy_hash=runtime.policy.digest
    )
    cursors = DatabaseCursorStore(runtime.db, runtime.clock)
    stats = capture_sources(sources, matcher, cursors, sink, runtime.clock)
    if dispatch and not runtime.stop.is_set():
        dispatch_logged(runtime, connection, stats)
    log.info(
        "capture_run_finished",
        connection=connection,
        sources=stats.sources,
        failed=len(stats.failed),
        read=stats.read,
        matched=stats.matched,
        stored=stats.stored,
        enqueued=sink.enqueued,
        logged=stats.logged,
    )
    return stats


def dispatch_logged(runtime: Runtime, connection: str, stats: CaptureStats) -> None:
    """Drain the connection's due outbox rows with the cycle's dispatcher; count LogActivity rows landed."""
    dispatcher = runtime.cycle(connection).dispatcher()
    landed = [0]

    def on_done(session: Session, done: Sequence[tuple[Action, Outcome]], now: datetime) -> None:
        mark_logged_activities(session, done, now)
        landed[0] += sum(1 for action, _ in done if isinstance(action, LogActivity))

    dispatcher.on_done = on_done
    report = dispatcher.run()
    stats.logged += landed[0]
    stats.not_logged += report.by_kind.get(LOG_KIND, 0) - landed[0]
