"""How figures read in tables and on the HTML page: ``—`` for no data, minutes as ``1 h 30 min``. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from zoneinfo import ZoneInfo

from crmsync.reports.compute import CherryPick, Report

NONE = "—"


def pct(value: float | None) -> str:
    """``80.0 %`` or ``—``."""
    return NONE if value is None else f"{value:.1f} %"


def number(value: float | None, digits: int = 1) -> str:
    """A number with ``digits`` decimals, or ``—``."""
    return NONE if value is None else f"{value:.{digits}f}"


def channels(per_lead: Mapping[str, float]) -> str:
    """Touches per lead by channel as ``0.60 / 0.40 / 0.20`` (email / call / meeting), or ``—``."""
    if not per_lead:
        return NONE
    return " / ".join(f"{per_lead.get(c, 0.0):.2f}" for c in ("email", "call", "meeting"))


def minutes(value: float | None) -> str:
    """Business minutes as ``45 min``, ``2 h 5 min`` (rounded to the minute), or ``—``."""
    if value is None:
        return NONE
    whole = round(value)
    if whole < 60:
        return f"{whole} min"
    hours, rest = divmod(whole, 60)
    return f"{hours} h" if rest == 0 else f"{hours} h {rest} min"


def no_index_reason(value: CherryPick, min_sample: int) -> str:
    """Why a rep has no index: too few leads in a segment, or no lead of either worked in time."""
    if min(value.attractive_leads, value.rest_leads) < min_sample:
        return f"below the minimum sample (n {value.attractive_leads}/{value.rest_leads})"
    return "no lead worked in time"


def cherry(value: CherryPick, min_sample: int) -> str:
    """``1.42 [1.05–1.93] ⚑`` (flag when the interval lies above 1), or ``— (n 3/12)`` / ``— (none in time)``."""
    if value.index is None or value.low is None or value.high is None:
        if min(value.attractive_leads, value.rest_leads) < min_sample:
            return f"{NONE} (n {value.attractive_leads}/{value.rest_leads})"
        return f"{NONE} (none in time)"
    flag = " ⚑" if value.flagged else ""
    return f"{value.index:.2f} [{value.low:.2f}–{value.high:.2f}]{flag}"


def period_title(report: Report) -> str:
    """``2026-03-02 → 2026-03-08 (UTC)``: the period's first and last days in the report's timezone."""
    tz = ZoneInfo(report.timezone)
    first = report.period.start.astimezone(tz).date()
    last = (report.period.end - timedelta(microseconds=1)).astimezone(tz).date()
    return f"{first.isoformat()} → {last.isoformat()} ({report.timezone})"
