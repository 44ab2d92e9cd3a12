"""Report periods as people ask for them: ``--since 7d`` or ``--from DATE --to DATE``. Pure (``now`` is given)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from crmsync.errors import ConfigError
from crmsync.reports.compute import Period

_SINCE = re.compile(r"^\s*(\d{1,4})\s*([hdw])\s*$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
WEEK = timedelta(days=7)


def since(text: str, now: datetime) -> Period:
    """``[now − amount, now)`` for ``"24h"``, ``"7d"`` or ``"2w"``; raises :class:`ConfigError` otherwise."""
    found = _SINCE.match(text)
    if found is None or int(found.group(1)) == 0:
        raise ConfigError([f"--since {text!r}: write an amount and a unit, e.g. 24h, 7d or 2w"])
    return Period(now - int(found.group(1)) * _UNITS[found.group(2)], now)


def between(start: str, end: str, tz: tzinfo) -> Period:
    """From the start of day ``start`` to the end of day ``end`` (both included), local to ``tz``.

    Either may also be a full ISO datetime (with an offset, or read in ``tz``). The ends come back in UTC
    (so arithmetic across a DST change is elapsed time). Raises :class:`ConfigError` for text that is neither,
    or an end not after the start.
    """
    first = _instant(start, tz, "--from", end_of_day=False)
    last = _instant(end, tz, "--to", end_of_day=True)
    if last <= first:
        raise ConfigError([f"--to {end!r} must come after --from {start!r}"])
    return Period(first.astimezone(UTC), last.astimezone(UTC))


def _instant(text: str, tz: tzinfo, option: str, *, end_of_day: bool) -> datetime:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        pass
    else:
        return datetime.combine(day + timedelta(days=1) if end_of_day else day, time(0), tzinfo=tz)
    try:
        instant = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError([f"{option} {text!r}: write a date (2026-03-02) or an ISO datetime"]) from None
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=tz)


def weekly(now: datetime) -> Period:
    """The seven days up to ``now``: what the weekly report covers."""
    return Period(now - WEEK, now)
