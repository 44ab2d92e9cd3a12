"""Report periods as asked for on the command line: ``--since`` amounts and ``--from``/``--to`` days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crmsync.errors import ConfigError
from crmsync.reports.period import between, since, weekly

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("text", "back"),
    [("24h", timedelta(hours=24)), ("7d", timedelta(days=7)), (" 2w ", timedelta(weeks=2))],
    ids=["hours", "days", "weeks"],
)
def test_since_counts_back_from_now(text: str, back: timedelta) -> None:
    """``--since`` is the span up to now."""
    period = since(text, NOW)
    assert (period.start, period.end) == (NOW - back, NOW)


@pytest.mark.parametrize("text", ["7", "0d", "7 days", "-1d", ""], ids=["no-unit", "zero", "word", "negative", "empty"])
def test_since_rejects_what_it_cannot_read(text: str) -> None:
    """Anything but an amount and h/d/w is a config error naming the option."""
    with pytest.raises(ConfigError, match="--since"):
        since(text, NOW)


def test_between_takes_whole_local_days() -> None:
    """``--from 2026-03-02 --to 2026-03-08`` runs from Monday 00:00 to the next Monday 00:00 in the policy's zone."""
    period = between("2026-03-02", "2026-03-08", NEW_YORK)
    assert period.start == datetime(2026, 3, 2, tzinfo=NEW_YORK)
    assert period.end == datetime(2026, 3, 9, tzinfo=NEW_YORK)
    assert period.end - period.start == timedelta(days=7) - timedelta(hours=1)  # clocks go forward on 8 March
    assert period.start.tzinfo is UTC


def test_between_accepts_datetimes_and_rejects_reversed_or_bad_text() -> None:
    """ISO datetimes pass through; an end before the start or text that is no date is a config error."""
    period = between("2026-03-02T09:00:00+00:00", "2026-03-02T17:00", UTC)
    assert period.end - period.start == timedelta(hours=8)
    with pytest.raises(ConfigError, match="must come after"):
        between("2026-03-08", "2026-03-02", UTC)
    with pytest.raises(ConfigError, match="--from"):
        between("last monday", "2026-03-02", UTC)


def test_weekly_is_the_seven_days_up_to_now() -> None:
    """The weekly report covers exactly the week before ``now``."""
    assert weekly(NOW).start == NOW - timedelta(days=7)
