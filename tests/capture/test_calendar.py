"""Meetings from a real Radicale (CalDAV sync-token, time-range fallback) and from an ICS URL with ETags."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from crmsync.capture.calendar import CalDavReader, IcsReader
from crmsync.capture.cursors import Cursor, InMemoryCursorStore
from crmsync.capture.matching import LeadIndex, MatchOptions
from crmsync.capture.service import CALENDAR_FOLDER, InMemorySink, Matcher, capture_calendar
from crmsync.capture.settings import CalDavSource, IcsSource, SecretRef
from crmsync.errors import AuthError
from tests.capture import servers

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
ANA, BOB, CAROL = "ana@acme.test", "bob@customer.example", "carol@customer.example"
MATCHER = Matcher(LeadIndex("acme-sf", {BOB: ["00Q1"], CAROL: ["00Q2"]}), {ANA: "005ANA"}, MatchOptions())


def stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def vevent(
    start: datetime,
    *,
    uid: str | None = None,
    minutes: int = 30,
    attendees: tuple[tuple[str, str], ...] = ((BOB, "ACCEPTED"),),
    extra: str = "",
) -> tuple[str, str]:
    """(uid, VEVENT block) of one meeting organised by Ana."""
    uid = uid or f"{uuid.uuid4().hex}@acme.test"
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20260201T000000Z",
        f"DTSTART:{stamp(start)}",
        f"DTEND:{stamp(start + timedelta(minutes=minutes))}",
        "SUMMARY:Pricing call",
        f"ORGANIZER:mailto:{ANA}",
        *(f"ATTENDEE;PARTSTAT={p}:mailto:{a}" for a, p in attendees),
        *([extra] if extra else []),
        "END:VEVENT",
    ]
    return uid, "\r\n".join(lines) + "\r\n"


def vcal(*blocks: str) -> str:
    """A VCALENDAR holding the given VEVENT blocks."""
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crmsync tests//EN\r\n" + "".join(blocks) + "END:VCALENDAR\r\n"


def put(session: requests.Session, calendar_url: str, event: tuple[str, str]) -> str:
    """PUT an event into the collection; returns its UID."""
    uid, block = event
    response = session.put(
        f"{calendar_url}{uuid.uuid4().hex}.ics",
        data=vcal(block).encode(),
        headers={"Content-Type": "text/calendar; charset=utf-8"},
    )
    assert response.status_code in (201, 204), response.status_code
    return uid


def caldav(calendar_url: str, **kw: object) -> CalDavSource:
    fields: dict[str, object] = {
        "connection": "acme-sf",
        "name": "ana-cal",
        "url": calendar_url,
        "username": servers.RADICALE_USER,
        "password": SecretRef(value=servers.RADICALE_PASSWORD),
        "mailbox_owner": ANA,
    }
    fields.update(kw)
    return CalDavSource.model_validate(fields)


@pytest.mark.caldav
def test_sync_token_reads_only_changes(calendar_url: str, dav_session: requests.Session) -> None:
    """The first run reads the window and keeps a sync token; the next reads only the new meeting."""
    put(dav_session, calendar_url, vevent(NOW - timedelta(days=2)))
    put(dav_session, calendar_url, vevent(NOW - timedelta(days=1), attendees=((CAROL, "ACCEPTED"),)))
    reader, cursors = CalDavReader(caldav(calendar_url)), InMemoryCursorStore()
    first = reader.read(None, NOW)
    assert first.mode == "initial"
    assert len(first.events) == 2
    cursors.set_cursor("acme-sf", "ana-cal", CALENDAR_FOLDER, first.cursor)  # type: ignore[arg-type]
    new_uid = put(dav_session, calendar_url, vevent(NOW - timedelta(hours=3)))
    second = reader.read(cursors.get_cursor("acme-sf", "ana-cal", CALENDAR_FOLDER), NOW)
    assert second.mode == "sync"
    assert [e.uid for e in second.events] == [new_uid]
    assert first.cursor is not None
    assert second.cursor is not None
    assert second.cursor.sync_token != first.cursor.sync_token


@pytest.mark.caldav
def test_capture_twice_stores_meetings_once(calendar_url: str, dav_session: requests.Session) -> None:
    """Two passes over the same calendar store each held meeting once."""
    put(dav_session, calendar_url, vevent(NOW - timedelta(days=2)))
    reader, cursors, sink = CalDavReader(caldav(calendar_url)), InMemoryCursorStore(), InMemorySink()
    first = capture_calendar(reader, MATCHER, cursors, sink, NOW)
    second = capture_calendar(reader, MATCHER, cursors, sink, NOW + timedelta(minutes=5))
    assert (first.stored, second.stored, len(sink.stored)) == (1, 0, 1)


@pytest.mark.caldav
def test_invalid_sync_token_falls_back_to_time_range(calendar_url: str, dav_session: requests.Session) -> None:
    """A token the server rejects leads to a time-range read of the window and a fresh token."""
    put(dav_session, calendar_url, vevent(NOW - timedelta(days=3)))
    stale = Cursor(sync_token='{"token": "http://radicale.org/ns/sync/0000", "checked": "2026-03-01T00:00:00+00:00"}')
    batch = CalDavReader(caldav(calendar_url)).read(stale, NOW)
    assert batch.mode == "initial"
    assert len(batch.events) == 1
    assert batch.cursor is not None
    assert "radicale.org/ns/sync/0000" not in (batch.cursor.sync_token or "")


@pytest.mark.caldav
def test_sync_disabled_reads_time_range_every_run(calendar_url: str, dav_session: requests.Session) -> None:
    """With sync off, every run is a time-range REPORT over the window (events outside it are not read)."""
    put(dav_session, calendar_url, vevent(NOW - timedelta(days=2)))
    put(dav_session, calendar_url, vevent(NOW - timedelta(days=90)))
    reader = CalDavReader(caldav(calendar_url, sync=False))
    batches = [reader.read(None, NOW), reader.read(None, NOW)]
    assert [(b.mode, len(b.events)) for b in batches] == [("range", 1), ("range", 1)]


@pytest.mark.caldav
def test_recurring_meeting_expanded(calendar_url: str, dav_session: requests.Session) -> None:
    """A weekly meeting yields one touch per held occurrence (EXDATE skipped), none for future ones."""
    first = NOW - timedelta(weeks=3, hours=2)
    skipped = first + timedelta(weeks=1)
    put(dav_session, calendar_url, vevent(first, extra=f"RRULE:FREQ=WEEKLY;COUNT=5\r\nEXDATE:{stamp(skipped)}"))
    sink = InMemorySink()
    stats = capture_calendar(CalDavReader(caldav(calendar_url)), MATCHER, InMemoryCursorStore(), sink, NOW)
    starts = sorted(m.activity.occurred_at for m in sink.stored.values())
    assert starts == [first, first + timedelta(weeks=2), first + timedelta(weeks=3)]
    assert stats.skipped["scheduled"] == 1


@pytest.mark.caldav
@pytest.mark.parametrize(
    ("attendees", "extra", "reason"),
    [
        (((BOB, "DECLINED"),), "", "declined"),
        (((BOB, "ACCEPTED"),), "STATUS:CANCELLED", "cancelled"),
    ],
    ids=["declined", "cancelled"],
)
def test_declined_and_cancelled_meetings_do_not_count(
    calendar_url: str, dav_session: requests.Session, attendees: tuple[tuple[str, str], ...], extra: str, reason: str
) -> None:
    """A meeting the lead declined, or a cancelled one, stores nothing and says why."""
    put(dav_session, calendar_url, vevent(NOW - timedelta(days=1), attendees=attendees, extra=extra))
    sink = InMemorySink()
    stats = capture_calendar(CalDavReader(caldav(calendar_url)), MATCHER, InMemoryCursorStore(), sink, NOW)
    assert sink.stored == {}
    assert stats.skipped[reason] == 1


@pytest.mark.caldav
def test_meeting_counts_only_after_it_happened(calendar_url: str, dav_session: requests.Session) -> None:
    """A meeting read while scheduled is stored by a later (sync) pass once it has ended, not before."""
    put(dav_session, calendar_url, vevent(NOW + timedelta(hours=1), minutes=60))
    reader, cursors, sink = CalDavReader(caldav(calendar_url)), InMemoryCursorStore(), InMemorySink()
    before = capture_calendar(reader, MATCHER, cursors, sink, NOW)
    during = capture_calendar(reader, MATCHER, cursors, sink, NOW + timedelta(minutes=90))
    after = capture_calendar(reader, MATCHER, cursors, sink, NOW + timedelta(hours=3))
    assert (before.stored, before.skipped["scheduled"]) == (0, 1)
    assert (during.stored, during.skipped["scheduled"]) == (0, 1)
    assert after.stored == 1
    (match,) = sink.stored.values()
    assert match.activity.occurred_at == NOW + timedelta(hours=1)
    assert match.activity.duration_minutes == 60


class _IcsFeed(BaseHTTPRequestHandler):
    """Serves ``server.body`` with an ETag and honours If-None-Match; counts requests by status."""

    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        server = self.server
        etag = f'"v{server.version}"'  # type: ignore[attr-defined]
        if self.headers.get("If-None-Match") == etag:
            server.statuses.append(304)  # type: ignore[attr-defined]
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        body = server.body.encode()  # type: ignore[attr-defined]
        server.statuses.append(200)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar; charset=utf-8")
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def ics_server() -> Iterator[ThreadingHTTPServer]:
    """A local ICS feed server on an ephemeral port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _IcsFeed)
    server.version, server.statuses = 1, []  # type: ignore[attr-defined]
    server.body = vcal(vevent(NOW - timedelta(days=1))[1])  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def test_ics_url_revalidates_with_etag(ics_server: ThreadingHTTPServer) -> None:
    """The second read sends If-None-Match and reuses the feed on 304; a changed feed is fetched again."""
    url = f"http://127.0.0.1:{ics_server.server_address[1]}/ana.ics"
    reader = IcsReader(IcsSource(connection="acme-sf", name="ana-ics", url=url, mailbox_owner=ANA))
    sink = InMemorySink()
    first = capture_calendar(reader, MATCHER, InMemoryCursorStore(), sink, NOW)
    second = capture_calendar(reader, MATCHER, InMemoryCursorStore(), sink, NOW)
    carol_meeting = vevent(NOW - timedelta(hours=5), attendees=((CAROL, "ACCEPTED"),))[1]
    body: str = ics_server.body  # type: ignore[attr-defined]
    ics_server.body = body.replace("END:VCALENDAR", carol_meeting + "END:VCALENDAR")  # type: ignore[attr-defined]
    ics_server.version = 2  # type: ignore[attr-defined]
    third = capture_calendar(reader, MATCHER, InMemoryCursorStore(), sink, NOW)
    assert ics_server.statuses == [200, 304, 200]  # type: ignore[attr-defined]
    assert (first.stored, second.stored, third.stored) == (1, 0, 1)
    assert second.read == 1
    assert reader.not_modified == 1
    assert sorted(m.activity.lead_id for m in sink.stored.values()) == ["00Q1", "00Q2"]


@pytest.mark.caldav
def test_wrong_caldav_password_is_auth_error(calendar_url: str) -> None:
    """A CalDAV server refusing the credentials raises AuthError, without the password in the message."""
    source = caldav(calendar_url, password=SecretRef(value="wrong-dav-password-q"))
    with pytest.raises(AuthError) as info:
        CalDavReader(source).read(None, NOW)
    assert "wrong-dav-password-q" not in str(info.value)
