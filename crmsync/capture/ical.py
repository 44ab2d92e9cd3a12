"""iCalendar text → :class:`~crmsync.capture.model.CapturedEvent` occurrences (icalendar + recurring-ical-events).

Pure: the window and the zone for floating times are arguments. Recurring events are expanded within the
window, with overrides (``RECURRENCE-ID``) and ``EXDATE`` applied by recurring-ical-events. All-day entries
(``DTSTART`` a date) are not meetings and are left out. An object sent with ``METHOD:CANCEL`` and every
occurrence whose ``STATUS`` is ``CANCELLED`` come out with status cancelled, so matching can say why it
skipped them. Unparseable objects are skipped and counted by the caller, never raised.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import recurring_ical_events
from icalendar import Calendar

from crmsync.capture.model import (
    Attendee,
    BodyPolicy,
    CapturedEvent,
    EventStatus,
    PartStat,
    apply_body_policy,
    event_key,
    normalise_address,
)

_PARTSTATS = {p.value.upper(): p for p in PartStat}
_STATUSES = {s.value.upper(): s for s in EventStatus}


def _instant(value: Any, zone: tzinfo) -> datetime | None:
    """A property value as an aware UTC instant; ``None`` for dates (all-day) and missing values."""
    raw = getattr(value, "dt", value)
    if not isinstance(raw, datetime):
        return None
    if raw.tzinfo is None:
        raw = raw.replace(tzinfo=zone)
    return raw.astimezone(UTC)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _attendees(component: Any) -> tuple[Attendee, ...]:
    found: dict[str, Attendee] = {}
    for item in _as_list(component.get("ATTENDEE")):
        address = normalise_address(str(item))
        if address is None:
            continue
        params = getattr(item, "params", {})
        partstat = _PARTSTATS.get(str(params.get("PARTSTAT", "NEEDS-ACTION")).upper(), PartStat.NEEDS_ACTION)
        found.setdefault(address, Attendee(address, partstat))
    return tuple(found.values())


def _end(component: Any, start: datetime, zone: tzinfo) -> datetime:
    end = _instant(component.get("DTEND"), zone)
    if end is not None:
        return end
    duration = getattr(component.get("DURATION"), "dt", None)
    return start + duration if isinstance(duration, timedelta) else start


def occurrence(
    component: Any, *, owner: str | None, zone: tzinfo, body: BodyPolicy, cancelled: bool = False
) -> CapturedEvent | None:
    """One VEVENT occurrence as a captured event, or ``None`` if it is all-day or lacks a UID/start."""
    uid = str(component.get("UID", "")).strip()
    start = _instant(component.get("DTSTART"), zone)
    if not uid or start is None:
        return None
    status = _STATUSES.get(str(component.get("STATUS", "CONFIRMED")).upper(), EventStatus.CONFIRMED)
    description = component.get("DESCRIPTION")
    return CapturedEvent(
        capture_key=event_key(uid, start),
        uid=uid,
        calendar_owner=owner,
        organizer=normalise_address(str(component.get("ORGANIZER", ""))),
        attendees=_attendees(component),
        summary=str(component.get("SUMMARY", "")).strip(),
        start=start,
        end=_end(component, start, zone),
        status=EventStatus.CANCELLED if cancelled else status,
        body=apply_body_policy(str(description), body) if description is not None else None,
    )


def expand(
    texts: Iterable[str],
    *,
    window: tuple[datetime, datetime],
    owner: str | None,
    zone: tzinfo,
    body: BodyPolicy,
) -> tuple[list[CapturedEvent], int]:
    """Every event occurrence overlapping ``window`` in the given iCalendar objects, and how many failed to parse."""
    events: list[CapturedEvent] = []
    failed = 0
    for text in texts:
        try:
            calendar = Calendar.from_ical(text)
            cancelled = str(calendar.get("METHOD", "")).upper() == "CANCEL"
            components = recurring_ical_events.of(calendar).between(*window)
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            failed += 1
            continue
        for component in components:
            if isinstance(getattr(component.get("DTSTART"), "dt", None), datetime):
                event = occurrence(component, owner=owner, zone=zone, body=body, cancelled=cancelled)
                if event is not None:
                    events.append(event)
    return events, failed


def day_window(now: datetime, past_days: int, future_days: int) -> tuple[datetime, datetime]:
    """``[now - past_days, now + future_days]``, in UTC."""
    now = now.astimezone(UTC)
    return now - timedelta(days=past_days), now + timedelta(days=future_days)
