"""Business time: working days and hours in a timezone, minus public holidays and out-of-office periods.

Pure: no clock, no I/O (the ``holidays`` package is static data). Every instant a calendar returns is a
timezone-aware UTC datetime. Internally instants are whole microseconds since the Unix epoch, so
``between(t, add(t, d)) == d`` holds exactly. The working intervals of a local date are computed once and
cached, and whole days and weeks are skipped by their cached totals, so ``add`` and ``between`` cost a few
dictionary lookups per week crossed, never a loop over minutes.

Working intervals are half-open, ``[start, end)``: ``is_working`` is false at 17:00 when hours end at 17:00,
but ``add`` may return exactly 17:00 (a deadline "by close of business").
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holidays_pkg

from crmsync.policy.durations import Duration

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_DAY = timedelta(days=1)
HORIZON_DAYS = 3660
"""How far ``add`` and ``next_working_instant`` look for working time before giving up (about ten years)."""
_CACHE_LIMIT = 50_000
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

Interval = tuple[int, int]


class CalendarError(ValueError):
    """A calendar cannot answer: no working time within the horizon, or a negative duration."""


@dataclass(frozen=True, slots=True)
class HourRange:
    """Working hours within a day, as minutes after local midnight: ``start`` < ``end`` ≤ 1440 (24:00)."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> HourRange:
        """Parse ``"09:00-17:00"`` (``24:00`` allowed as an end); raise ``ValueError`` otherwise."""
        found = _RANGE.match(text)
        if found is None:
            raise ValueError(f"bad hours {text!r}: write HH:MM-HH:MM, e.g. 09:00-17:00")
        sh, sm, eh, em = (int(g) for g in found.groups())
        start, end = sh * 60 + sm, eh * 60 + em
        if sm > 59 or em > 59 or start >= 1440 or end > 1440:
            raise ValueError(f"bad hours {text!r}: times run from 00:00 to 24:00")
        if start >= end:
            raise ValueError(f"bad hours {text!r}: the range must end after it starts")
        return cls(start, end)

    def __str__(self) -> str:
        return f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"


def parse_hours(text: str) -> tuple[HourRange, ...]:
    """Parse ``"09:00-12:00, 13:00-17:00"`` into sorted ranges; raise ``ValueError`` on overlap or bad text."""
    ranges = sorted((HourRange.parse(part) for part in text.split(",")), key=lambda r: r.start)
    check_hour_ranges(ranges)
    return tuple(ranges)


def check_hour_ranges(ranges: Sequence[HourRange]) -> None:
    """Raise ``ValueError`` unless ``ranges`` is non-empty, sorted and non-overlapping."""
    if not ranges:
        raise ValueError("give at least one range of working hours, e.g. 09:00-17:00")
    for before, after in itertools.pairwise(ranges):
        if after.start < before.end:
            raise ValueError(f"working hours {before} and {after} overlap")


@functools.lru_cache(maxsize=64)
def holiday_lookup(spec: str) -> Callable[[date], bool]:
    """A membership test for the public holidays of ``spec``: ``"US"`` or ``"US/NY"`` (country/subdivision).

    Raises ``ValueError`` naming the problem when the ``holidays`` package does not know the calendar.
    """
    country, _, subdiv = spec.strip().upper().partition("/")
    supported: dict[str, Any] = holidays_pkg.list_supported_countries()
    if country not in supported:
        raise ValueError(
            f"unknown holiday calendar {spec!r}: use a country code such as US, GB or DE, "
            "optionally with a subdivision (US/NY)"
        )
    if subdiv and subdiv not in supported[country]:
        raise ValueError(f"unknown subdivision {subdiv!r} of {country}: e.g. {', '.join(supported[country][:3])}")
    try:
        table: Any = holidays_pkg.country_holidays(country, subdiv=subdiv or None)
    except Exception as unknown:  # the package raises NotImplementedError and others for odd input
        raise ValueError(f"unknown holiday calendar {spec!r} ({type(unknown).__name__})") from None

    @functools.lru_cache(maxsize=8192)
    def is_holiday(day: date) -> bool:
        return day in table

    return is_holiday


def _micros(instant: datetime) -> int:
    if instant.tzinfo is None:
        raise ValueError("business-time arithmetic needs timezone-aware datetimes")
    return (instant - _EPOCH) // _US


def _instant(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _span_micros(amount: timedelta) -> int:
    return amount // _US


class BusinessCalendar:
    """Working time of one person or team.

    ``workdays`` are weekday numbers (0 = Monday); ``hours`` the working ranges of a workday in local time;
    ``holidays`` a country spec (``"US"``, ``"US/NY"``) or None; ``extra_holidays`` more days off;
    ``out_of_office`` aware (start, end) periods removed from working time. Calendars compare equal when
    built from the same arguments.
    """

    __slots__ = ("_cache", "_holiday", "_key", "_ooo", "_week_cache", "day_length", "hours", "tz", "workdays")

    def __init__(
        self,
        timezone: str | ZoneInfo = "UTC",
        workdays: Iterable[int] = (0, 1, 2, 3, 4),
        hours: Sequence[HourRange] = (HourRange(540, 1020),),
        holidays: str | None = None,
        extra_holidays: Iterable[date] = (),
        out_of_office: Iterable[tuple[datetime, datetime]] = (),
    ) -> None:
        self.tz = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
        self.workdays = frozenset(workdays)
        self.hours = tuple(sorted(hours, key=lambda r: r.start))
        check_hour_ranges(self.hours)
        if not self.workdays or not self.workdays <= set(range(7)):
            raise ValueError("workdays must be a non-empty set of weekday numbers 0-6")
        extra = frozenset(extra_holidays)
        public = holiday_lookup(holidays) if holidays else None
        self._holiday: Callable[[date], bool] = lambda day: day in extra or (public is not None and public(day))
        ooo = tuple(sorted((_micros(a), _micros(b)) for a, b in out_of_office if b > a))
        self._ooo: tuple[Interval, ...] = ooo
        self.day_length = timedelta(minutes=sum(r.end - r.start for r in self.hours))
        self._key = (str(self.tz), self.workdays, self.hours, holidays, extra, ooo)
        self._cache: dict[date, tuple[Interval, ...]] = {}
        self._week_cache: dict[date, int] = {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BusinessCalendar) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.tz}, hours={','.join(map(str, self.hours))})"

    # -- public API --------------------------------------------------------------------------------------

    def add(self, instant: datetime, amount: timedelta | Duration) -> datetime:
        """The instant ``amount`` of working time after ``instant`` (UTC).

        A calendar-time :class:`Duration` is added as elapsed time. A zero amount returns ``instant``
        unchanged (even outside working time); any positive amount lands inside working time or exactly at
        the end of a working interval. Raises :class:`CalendarError` for negative amounts.
        """
        if isinstance(amount, Duration):
            if amount.calendar:
                return instant.astimezone(UTC) + amount.to_timedelta(_DAY)
            amount = amount.to_timedelta(self.day_length)
        remaining = _span_micros(amount)
        if remaining < 0:
            raise CalendarError("cannot add a negative business duration")
        start = _micros(instant)
        if remaining == 0:
            return instant.astimezone(UTC)
        return _instant(self._add(start, remaining))

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from ``start`` to ``end``; negative when ``end`` is before ``start``."""
        a, b = _micros(start), _micros(end)
        if b < a:
            return -self.between(end, start)
        return timedelta(microseconds=self._between(a, b))

    def is_working(self, instant: datetime) -> bool:
        """True when ``instant`` falls inside a working interval (start included, end excluded)."""
        at = _micros(instant)
        return any(s <= at < e for s, e in self._intervals(self._local_date(at)))

    def next_working_instant(self, instant: datetime) -> datetime:
        """``instant`` itself when working, else the start of the next working interval (UTC)."""
        at = _micros(instant)
        day = self._local_date(at)
        for _ in range(HORIZON_DAYS):
            for s, e in self._intervals(day):
                if e > at:
                    return _instant(max(s, at))
            day += _DAY
        raise CalendarError(f"no working time within {HORIZON_DAYS} days of {instant.isoformat()}")

    def to_timedelta(self, amount: Duration) -> timedelta:
        """The working time a business :class:`Duration` stands for (days count :attr:`day_length` each)."""
        return amount.to_timedelta(_DAY if amount.calendar else self.day_length)

    def with_person(self, timezone: str | None, out_of_office: Iterable[tuple[datetime, datetime]]) -> BusinessCalendar:
        """This calendar in another timezone and with out-of-office periods (for one rep)."""
        _, workdays, hours, spec, extra, ooo = self._key
        periods = [(_instant(a), _instant(b)) for a, b in ooo] + list(out_of_office)
        return BusinessCalendar(timezone or self.tz, workdays, hours, spec, extra, periods)

    # -- internals ---------------------------------------------------------------------------------------

    def _local_date(self, micros: int) -> date:
        return _instant(micros).astimezone(self.tz).date()

    def _intervals(self, day: date) -> tuple[Interval, ...]:
        found = self._cache.get(day)
        if found is None:
            if len(self._cache) > _CACHE_LIMIT:
                self._cache.clear()
            found = self._cache[day] = self._compute(day)
        return found

    def _compute(self, day: date) -> tuple[Interval, ...]:
        if day.weekday() not in self.workdays or self._holiday(day):
            return ()
        out: list[Interval] = []
        for r in self.hours:
            s = self._local_micros(day, r.start)
            e = self._local_micros(day, r.end)
            if e > s:
                out.extend(_subtract(s, e, self._ooo))
        return tuple(out)

    def _local_micros(self, day: date, minute: int) -> int:
        if minute >= 1440:
            day, minute = day + _DAY, minute - 1440
        wall = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self.tz)
        return _micros(wall)

    def _day_total(self, day: date) -> int:
        return sum(e - s for s, e in self._intervals(day))

    def _week_total(self, monday: date) -> int:
        found = self._week_cache.get(monday)
        if found is None:
            if len(self._week_cache) > _CACHE_LIMIT:
                self._week_cache.clear()
            found = self._week_cache[monday] = sum(self._day_total(monday + i * _DAY) for i in range(7))
        return found

    def _day_start(self, day: date) -> int:
        return _micros(datetime.combine(day, time(0), tzinfo=self.tz))

    def _add(self, at: int, remaining: int) -> int:
        day = self._local_date(at)
        for _ in range(HORIZON_DAYS):
            if day.weekday() == 0 and self._day_start(day) >= at:
                week = self._week_total(day)
                if remaining > week:
                    remaining -= week
                    day += 7 * _DAY
                    continue
            for s, e in self._intervals(day):
                if e <= at:
                    continue
                s = max(s, at)
                if remaining <= e - s:
                    return s + remaining
                remaining -= e - s
            day += _DAY
        raise CalendarError(f"no working time within {HORIZON_DAYS} days of {_instant(at).isoformat()}")

    def _between(self, a: int, b: int) -> int:
        day, last = self._local_date(a), self._local_date(b)
        total = 0
        while day <= last:
            if day.weekday() == 0 and day + 6 * _DAY < last and self._day_start(day) >= a:
                total += self._week_total(day)
                day += 7 * _DAY
                continue
            for s, e in self._intervals(day):
                lo, hi = max(s, a), min(e, b)
                if hi > lo:
                    total += hi - lo
            day += _DAY
        return total


def _subtract(start: int, end: int, periods: tuple[Interval, ...]) -> list[Interval]:
    """``[start, end)`` minus the sorted ``periods``."""
    pieces: list[Interval] = []
    cursor = start
    for ps, pe in periods:
        if pe <= cursor:
            continue
        if ps >= end:
            break
        if ps > cursor:
            pieces.append((cursor, ps))
        cursor = max(cursor, pe)
        if cursor >= end:
            break
    if cursor < end:
        pieces.append((cursor, end))
    return pieces


def weekday_number(name: str) -> int:
    """``"mon"`` → 0 … ``"sun"`` → 6; raise ``ValueError`` for other names."""
    short = name.strip().lower()
    full = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    if short in full:
        short = short[:3]
    if short not in WEEKDAYS:
        raise ValueError(f"unknown weekday {name!r}: use {', '.join(WEEKDAYS)}")
    return WEEKDAYS.index(short)
