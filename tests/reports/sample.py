"""A small hand-built org and week of history, shared by the computation tests and the renderer goldens.

UTC calendar, Mon–Fri 09:00–17:00; the week of Monday 2026-03-02; report as of Tuesday 2026-03-10 12:00.
Team ``sdr`` is ana and ben (half a new lead a day each), one SLA tier with a 1 h first touch.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crmsync.policy.calendar import BusinessCalendar
from crmsync.reports.compute import (
    ActivityFacts,
    AssignmentFacts,
    LeadFacts,
    LeadHistory,
    Period,
    RepFacts,
    ReportRules,
    SlaTier,
    TeamCapacity,
)

PERIOD = Period(datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC))
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
REPS = (
    RepFacts("005A", "ana@acme.test", "Ana Alves"),
    RepFacts("005B", "ben@acme.test", "Ben Brown"),
    RepFacts("00GQ", None, "Marketing Nurture", kind="queue"),
)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in March 2026, UTC."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def rules(**overrides: object) -> ReportRules:
    """The sample org's report rules; keyword arguments replace fields."""
    values: dict[str, object] = {
        "calendar": BusinessCalendar("UTC"),
        "teams": (TeamCapacity("sdr", ("ana@acme.test", "ben@acme.test"), 0.5),),
        "tiers": (SlaTier("default", lambda _f: True, timedelta(hours=1)),),
        "attractive": lambda f: str(f.get("Title", "")).startswith("VP"),
        "minutes_per_email": 3.0,
        "min_sample": 2,
        "min_touches_before_close": 5,
        "rule_teams": {"everyone": "sdr"},
    }
    values.update(overrides)
    return ReportRules(**values)  # type: ignore[arg-type]


def _lead(lead_id: str, owner: str | None, source: str, **kw: object) -> LeadFacts:
    return LeadFacts(lead_id, owner, at(1, 8), source=source, campaign=kw.pop("campaign", "spring"), **kw)  # type: ignore[arg-type]


def _route(lead_id: str, owner: str, when: datetime) -> AssignmentFacts:
    return AssignmentFacts(lead_id, owner, "00GQ", "route", when, rule="everyone")


def _touch(lead_id: str, owner: str, channel: str, when: datetime, minutes: int | None = None) -> ActivityFacts:
    return ActivityFacts(lead_id, owner, channel, "outbound", when, duration_minutes=minutes)


def histories() -> list[LeadHistory]:
    """Six leads: four first touches by ana around a weekend, one breach by ben, one early close by ben."""
    vp = {"Title": "VP Sales"}
    return [
        LeadHistory(
            _lead("L1", "005A", "Web", fields=vp),
            (_route("L1", "005A", at(6, 16)),),
            (_touch("L1", "005A", "email", at(9, 10)),),
        ),
        LeadHistory(
            _lead("L2", "005A", "Web"),
            (_route("L2", "005A", at(2, 10)),),
            (_touch("L2", "005A", "email", at(2, 10, 30)), _touch("L2", "005A", "call", at(2, 11), 30)),
        ),
        LeadHistory(
            _lead("L3", "005A", "Trade Show", fields=vp, campaign="expo"),
            (_route("L3", "005A", at(4, 16, 30)),),
            (_touch("L3", "005A", "meeting", at(5, 9, 15), 45),),
        ),
        LeadHistory(
            _lead("L4", "005A", "Trade Show", campaign="expo"),
            (_route("L4", "005A", at(7, 12)),),
            (_touch("L4", "005A", "email", at(9, 9, 30)), ActivityFacts("L4", None, "email", "inbound", at(9, 11))),
        ),
        LeadHistory(
            _lead("L5", "005A", "Web", fields=vp),
            (
                _route("L5", "005B", at(3, 9)),
                AssignmentFacts("L5", "005A", "005B", "reassign", at(3, 10, 30), reason="no first touch"),
            ),
            (_touch("L5", "005A", "call", at(3, 11), 20),),
        ),
        LeadHistory(
            _lead("L6", "005B", "Web", closed_at=at(4, 12), disposition="No budget", status="Unqualified"),
            (_route("L6", "005B", at(4, 9)),),
            (_touch("L6", "005B", "email", at(4, 9, 10)), _touch("L6", "005B", "email", at(4, 9, 20))),
        ),
    ]
