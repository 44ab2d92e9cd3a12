"""Durations as admins write them: business and calendar time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crmsync.policy.durations import Duration

GOOD = [
    ("minutes", "30m", Duration(minutes=30)),
    ("hours", "1h", Duration(minutes=60)),
    ("days", "2d", Duration(days=2)),
    ("compound", "1h30m", Duration(minutes=90)),
    ("compound with space", "1d 4h", Duration(days=1, minutes=240)),
    ("calendar hours", "calendar 48h", Duration(minutes=48 * 60, calendar=True)),
    ("upper case", "Calendar 2D", Duration(days=2, calendar=True)),
    ("zero", "0m", Duration()),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in GOOD], ids=[c[0] for c in GOOD])
def test_parse(text: str, expected: Duration) -> None:
    """Valid spellings parse to days, minutes and a business/calendar flag."""
    assert Duration.parse(text) == expected


@pytest.mark.parametrize("text", ["", "1", "1x", "h", "-1h", "1.5h", "30m1h", "1h1h", "calendar", "business 1h"])
def test_bad(text: str) -> None:
    """Anything else is a ValueError that shows the accepted forms."""
    with pytest.raises(ValueError, match="bad duration"):
        Duration.parse(text)


def test_to_timedelta() -> None:
    """Business days count the calendar's working-day length; calendar days count 24 hours."""
    assert Duration.parse("2d").to_timedelta(timedelta(hours=8)) == timedelta(hours=16)
    assert Duration.parse("calendar 2d").to_timedelta(timedelta(hours=8)) == timedelta(hours=48)
    assert Duration.parse("1d2h").to_timedelta(timedelta(hours=7)) == timedelta(hours=9)


def test_str_keeps_the_text() -> None:
    """A duration prints as written (whitespace normalised), and builds a sensible text when made in code."""
    assert str(Duration.parse("calendar  48h")) == "calendar 48h"
    assert str(Duration(days=14, calendar=True)) == "calendar 14d"
    assert str(Duration(minutes=90)) == "90m"
