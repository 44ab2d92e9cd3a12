"""iCalendar parsing into meeting occurrences: zones, durations, all-day entries, cancellations, attendees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from crmsync.capture.ical import day_window, expand
from crmsync.capture.model import BodyPolicy, CapturedEvent, EventStatus, PartStat

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
WINDOW = day_window(NOW, 30, 30)
NEW_YORK = ZoneInfo("America/New_York")


def cal(*lines: str, method: str | None = None) -> str:
    """A VCALENDAR with one VEVENT (UID u1@x) made of ``lines``."""
    head = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", *([f"METHOD:{method}"] if method else [])]
    return (
        "\r\n".join(
            [*head, "BEGIN:VEVENT", "UID:u1@x", "DTSTAMP:20260101T000000Z", *lines, "END:VEVENT", "END:VCALENDAR"]
        )
        + "\r\n"
    )


def one(text: str, zone: ZoneInfo | None = None, body: BodyPolicy = BodyPolicy.SNIPPET) -> list[CapturedEvent]:
    """The occurrences of one object in the window, asserting it parsed."""
    events, failed = expand([text], window=WINDOW, owner="ana@acme.test", zone=zone or NEW_YORK, body=body)
    assert failed == 0
    return events


def test_floating_time_uses_source_zone_and_duration() -> None:
    """A zone-less start is read in the source's zone; DURATION gives the end; attendees keep PARTSTAT."""
    (event,) = one(
        cal(
            "DTSTART:20260302T090000",
            "DURATION:PT45M",
            "ORGANIZER:mailto:Ana@Acme.test",
            "ATTENDEE;PARTSTAT=DECLINED:mailto:Bob@Customer.example",
            "ATTENDEE:mailto:carol@c.example",
        )
    )
    assert event.start == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    assert event.end - event.start == timedelta(minutes=45)
    assert event.organizer == "ana@acme.test"
    assert event.partstat_of("bob@customer.example") is PartStat.DECLINED
    assert event.partstat_of("carol@c.example") is PartStat.NEEDS_ACTION
    assert event.capture_key == "ical:u1@x@20260302T140000Z"


def test_zoned_start_is_converted_to_utc() -> None:
    """A TZID start is converted to UTC whatever the source's zone."""
    (event,) = one(cal("DTSTART;TZID=Europe/Berlin:20260302T100000", "DTEND;TZID=Europe/Berlin:20260302T110000"))
    assert event.start == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_all_day_entries_are_not_meetings() -> None:
    """An entry whose start is a date is left out."""
    assert one(cal("DTSTART;VALUE=DATE:20260302", "DTEND;VALUE=DATE:20260303")) == []


def test_method_cancel_and_status_cancelled() -> None:
    """METHOD:CANCEL and STATUS:CANCELLED both give a cancelled occurrence."""
    (by_method,) = one(cal("DTSTART:20260302T100000Z", method="CANCEL"))
    (by_status,) = one(cal("DTSTART:20260302T100000Z", "STATUS:CANCELLED"))
    assert by_method.status is by_status.status is EventStatus.CANCELLED


def test_description_obeys_body_policy() -> None:
    """The description is kept as a snippet, or not at all under body policy none."""
    text = cal("DTSTART:20260302T100000Z", "DESCRIPTION:Agenda:\\n pricing\\, next steps")
    assert one(text)[0].body == "Agenda: pricing, next steps"
    assert one(text, body=BodyPolicy.NONE)[0].body is None


def test_garbage_is_counted_not_raised() -> None:
    """An unparseable object is counted as failed and the others still come out."""
    good = cal("DTSTART:20260302T100000Z")
    events, failed = expand(["not a calendar", good], window=WINDOW, owner=None, zone=UTC, body=BodyPolicy.NONE)
    assert (len(events), failed) == (1, 1)
