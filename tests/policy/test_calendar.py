"""Business-time arithmetic: table tests (DST, holidays, split hours, out-of-office, year end) and properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.policy.calendar import BusinessCalendar, CalendarError, HourRange, parse_hours, weekday_number
from crmsync.policy.durations import Duration

NY = ZoneInfo("America/New_York")


def ny(*args: int) -> datetime:
    """An instant given as New York wall time."""
    return datetime(*args, tzinfo=NY)  # type: ignore[misc]


def cal(hours: str = "09:00-17:00", holidays: str | None = "US", **kw: object) -> BusinessCalendar:
    """A New York calendar, Monday to Friday."""
    return BusinessCalendar("America/New_York", hours=parse_hours(hours), holidays=holidays, **kw)  # type: ignore[arg-type]


ADD_CASES = [
    ("inside the day", cal(), ny(2026, 3, 2, 10), "1h", ny(2026, 3, 2, 11)),
    ("before opening", cal(), ny(2026, 3, 2, 7), "1h", ny(2026, 3, 2, 10)),
    ("after closing", cal(), ny(2026, 3, 2, 18), "1h", ny(2026, 3, 3, 10)),
    ("lands at close of business", cal(), ny(2026, 3, 2, 16), "1h", ny(2026, 3, 2, 17)),
    ("friday evening to monday", cal(), ny(2026, 3, 6, 16, 30), "1h", ny(2026, 3, 9, 9, 30)),
    ("spring forward weekend", cal(), ny(2026, 3, 6, 16), "2h", ny(2026, 3, 9, 10)),
    ("fall back weekend", cal(), ny(2026, 10, 30, 16), "2h", ny(2026, 11, 2, 10)),
    ("thanksgiving skipped", cal(), ny(2026, 11, 25, 16), "2h", ny(2026, 11, 27, 10)),
    ("no holidays configured", cal(holidays=None), ny(2026, 11, 25, 16), "2h", ny(2026, 11, 26, 10)),
    ("split hours skip lunch", cal("09:00-12:00,13:00-17:00"), ny(2026, 3, 2, 11), "2h", ny(2026, 3, 2, 14)),
    ("split hours from lunch", cal("09:00-12:00,13:00-17:00"), ny(2026, 3, 2, 12, 30), "30m", ny(2026, 3, 2, 13, 30)),
    ("business day = one working day", cal(), ny(2026, 3, 2, 10), "1d", ny(2026, 3, 3, 10)),
    ("split-hours business day is 7h", cal("09:00-12:00,13:00-17:00"), ny(2026, 3, 2, 9), "1d", ny(2026, 3, 2, 17)),
    ("year end: christmas and new year", cal(), ny(2026, 12, 24, 16), "2h", ny(2026, 12, 28, 10)),
    ("new year's day", cal(), ny(2026, 12, 31, 16), "2h", ny(2027, 1, 4, 10)),
    ("two weeks skip whole weeks", cal(holidays=None), ny(2026, 3, 2, 9), "10d", ny(2026, 3, 13, 17)),
    ("calendar time ignores hours", cal(), ny(2026, 3, 6, 16), "calendar 48h", ny(2026, 3, 8, 17)),
    ("zero returns the instant", cal(), ny(2026, 3, 7, 3), "0m", ny(2026, 3, 7, 3)),
]


@pytest.mark.parametrize(
    ("calendar", "start", "amount", "expected"), [c[1:] for c in ADD_CASES], ids=[c[0] for c in ADD_CASES]
)
def test_add(calendar: BusinessCalendar, start: datetime, amount: str, expected: datetime) -> None:
    """Adding business time skips nights, weekends, holidays and lunch, across DST changes and year ends."""
    assert calendar.add(start, Duration.parse(amount)) == expected


def test_add_returns_utc() -> None:
    """Every instant a calendar returns is in UTC."""
    assert cal().add(ny(2026, 3, 2, 10), timedelta(minutes=5)).tzinfo is UTC


def test_out_of_office_is_skipped() -> None:
    """A rep's out-of-office period is not working time, for add, between and is_working."""
    base = cal()
    rep = base.with_person("Europe/London", [(datetime(2026, 3, 3, tzinfo=UTC), datetime(2026, 3, 5, tzinfo=UTC))])
    london = ZoneInfo("Europe/London")
    start = datetime(2026, 3, 2, 16, tzinfo=london)
    assert rep.add(start, timedelta(hours=2)) == datetime(2026, 3, 5, 10, tzinfo=london)
    assert not rep.is_working(datetime(2026, 3, 4, 12, tzinfo=london))
    assert rep.between(start, datetime(2026, 3, 5, 10, tzinfo=london)) == timedelta(hours=2)


def test_out_of_office_part_of_a_day() -> None:
    """An out-of-office period covering a morning leaves the afternoon working."""
    rep = cal(out_of_office=[(ny(2026, 3, 2, 8), ny(2026, 3, 2, 13))])
    assert rep.next_working_instant(ny(2026, 3, 2, 9)) == ny(2026, 3, 2, 13)
    assert rep.add(ny(2026, 3, 2, 9), timedelta(hours=1)) == ny(2026, 3, 2, 14)


BETWEEN_CASES = [
    ("same day", ny(2026, 3, 2, 10), ny(2026, 3, 2, 12), timedelta(hours=2)),
    ("overnight", ny(2026, 3, 2, 16), ny(2026, 3, 3, 10), timedelta(hours=2)),
    ("over spring forward", ny(2026, 3, 6, 9), ny(2026, 3, 9, 17), timedelta(hours=16)),
    ("over thanksgiving", ny(2026, 11, 25, 9), ny(2026, 11, 27, 17), timedelta(hours=16)),
    ("a weekend only", ny(2026, 3, 7, 0), ny(2026, 3, 9, 0), timedelta(0)),
    ("reversed is negative", ny(2026, 3, 2, 12), ny(2026, 3, 2, 10), timedelta(hours=-2)),
    ("a whole year", ny(2026, 1, 1), ny(2027, 1, 1), timedelta(hours=8 * 250)),
]


@pytest.mark.parametrize(
    ("start", "end", "expected"), [c[1:] for c in BETWEEN_CASES], ids=[c[0] for c in BETWEEN_CASES]
)
def test_between(start: datetime, end: datetime, expected: timedelta) -> None:
    """Business time between two instants counts only working intervals."""
    assert cal().between(start, end) == expected


WORKING_CASES = [
    ("monday morning", ny(2026, 3, 2, 9), True),
    ("closing instant is not working", ny(2026, 3, 2, 17), False),
    ("lunch in split hours", ny(2026, 3, 2, 12, 30), False),
    ("saturday", ny(2026, 3, 7, 12), False),
    ("thanksgiving", ny(2026, 11, 26, 12), False),
    ("day after thanksgiving", ny(2026, 11, 27, 11), True),
]


@pytest.mark.parametrize(("instant", "expected"), [c[1:] for c in WORKING_CASES], ids=[c[0] for c in WORKING_CASES])
def test_is_working(instant: datetime, expected: bool) -> None:
    """is_working is true inside working hours, false at closing, at lunch, on weekends and holidays."""
    assert cal("09:00-12:00,13:00-17:00").is_working(instant) is expected


def test_next_working_instant() -> None:
    """Outside working time the next working instant is the next opening; inside it is the instant itself."""
    calendar = cal("09:00-12:00,13:00-17:00")
    assert calendar.next_working_instant(ny(2026, 3, 2, 12, 15)) == ny(2026, 3, 2, 13)
    assert calendar.next_working_instant(ny(2026, 11, 25, 18)) == ny(2026, 11, 27, 9)
    assert calendar.next_working_instant(ny(2026, 3, 2, 10)) == ny(2026, 3, 2, 10)


def test_subdivision_holidays() -> None:
    """A subdivision adds its own holidays (Massachusetts: Patriots' Day, 2026-04-20)."""
    assert not cal(holidays="US/MA").is_working(ny(2026, 4, 20, 10))
    assert cal(holidays="US").is_working(ny(2026, 4, 20, 10))


def test_extra_holidays() -> None:
    """Extra days off are not working time."""
    assert not cal(extra_holidays=[date(2026, 3, 2)]).is_working(ny(2026, 3, 2, 10))


def test_unknown_holiday_calendar() -> None:
    """An unknown country is a ValueError naming it."""
    with pytest.raises(ValueError, match="unknown holiday calendar 'XX'"):
        cal(holidays="XX")


def test_naive_and_negative_inputs_rejected() -> None:
    """Naive datetimes and negative durations are refused."""
    with pytest.raises(ValueError, match="timezone-aware"):
        cal().add(datetime(2026, 3, 2, 10), timedelta(hours=1))  # noqa: DTZ001 - the point of the test
    with pytest.raises(CalendarError):
        cal().add(ny(2026, 3, 2, 10), timedelta(hours=-1))


def test_hours_and_weekdays_parse() -> None:
    """Hour ranges sort, reject overlaps and bad times; weekday names map to numbers."""
    assert parse_hours("13:00-17:00, 09:00-12:00") == (HourRange(540, 720), HourRange(780, 1020))
    assert parse_hours("00:00-24:00") == (HourRange(0, 1440),)
    for bad in ("09:00-12:00,11:00-13:00", "9-17", "17:00-09:00", "09:60-10:00"):
        with pytest.raises(ValueError, match="hours"):
            parse_hours(bad)
    assert weekday_number("Friday") == 4
    with pytest.raises(ValueError, match="unknown weekday"):
        weekday_number("fry")


def test_equal_calendars_compare_equal() -> None:
    """Calendars built from the same arguments are equal and hash alike."""
    assert cal() == cal()
    assert hash(cal()) == hash(cal())
    assert cal() != cal(holidays=None)


# -- properties ----------------------------------------------------------------------------------------------

CALENDARS = [
    cal(),
    cal("09:00-12:00,13:00-17:00"),
    cal("22:00-24:00", holidays=None),
    BusinessCalendar("Europe/London", workdays=[0, 2, 4], hours=parse_hours("01:00-03:00,08:30-18:00")),
    cal(out_of_office=[(ny(2026, 12, 20), ny(2027, 1, 6))]),
]
instants = st.datetimes(
    min_value=datetime(2025, 12, 1),  # noqa: DTZ001 - hypothesis bounds are naive; timezones= makes them aware
    max_value=datetime(2028, 1, 31),  # noqa: DTZ001
    timezones=st.sampled_from([UTC, NY, ZoneInfo("Europe/London")]),
)
amounts = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40))
calendars = st.sampled_from(CALENDARS)


@settings(max_examples=150, deadline=None)
@given(calendars, instants, amounts)
def test_between_inverts_add(calendar: BusinessCalendar, start: datetime, amount: timedelta) -> None:
    """between(t, add(t, d)) == d, exactly."""
    assert calendar.between(start, calendar.add(start, amount)) == amount


@settings(max_examples=150, deadline=None)
@given(calendars, instants, instants, amounts)
def test_add_is_monotonic_in_start(calendar: BusinessCalendar, a: datetime, b: datetime, amount: timedelta) -> None:
    """A later start never gives an earlier result."""
    early, late = sorted((a, b))
    assert calendar.add(early, amount) <= calendar.add(late, amount)


@settings(max_examples=150, deadline=None)
@given(calendars, instants, amounts, amounts)
def test_add_is_monotonic_in_amount(calendar: BusinessCalendar, start: datetime, d1: timedelta, d2: timedelta) -> None:
    """A longer duration never gives an earlier result."""
    small, big = sorted((d1, d2))
    assert calendar.add(start, small) <= calendar.add(start, big)


@settings(max_examples=150, deadline=None)
@given(calendars, instants, amounts)
def test_results_fall_in_working_time(calendar: BusinessCalendar, start: datetime, amount: timedelta) -> None:
    """A positive amount lands in working time: the microsecond before the result is working."""
    result = calendar.add(start, amount)
    if amount:
        assert calendar.is_working(result - timedelta(microseconds=1))
    else:
        assert result.timestamp() == start.timestamp()


@settings(max_examples=100, deadline=None)
@given(calendars, instants)
def test_next_working_instant_is_working(calendar: BusinessCalendar, start: datetime) -> None:
    """The next working instant is working, not before the start, with no working time in between."""
    found = calendar.next_working_instant(start)
    assert found >= start
    assert calendar.is_working(found)
    assert calendar.between(start, found) == timedelta(0)
