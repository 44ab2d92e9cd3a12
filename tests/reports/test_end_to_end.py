"""Reports over what the real pipeline wrote: sandbox HubSpot → pull → engine → store → report.

This pins the report's reading of the engine's records (route, seen, reassign and reopen entries, first
touches from pulled activities), where the other tests build the facts by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crmsync.domain import Vendor
from crmsync.reports.compute import Period, RepFigures, Report
from crmsync.reports.weekly import report_from_store
from crmsync.store.repositories import leads
from tests.sync.conftest import Floor, FloorFactory, make_floor  # noqa: F401 - make_floor is a fixture

WEEK = Period(datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC))


def _cycle(floor: Floor) -> None:
    floor.settle()
    report = floor.cycle().run()
    assert report.dispatched is not None
    assert report.dispatched.dead == 0


def _due(floor: Floor, lead: str) -> datetime:
    with floor.db.transaction() as session:
        due = next(leads.leads_by_ids(session, "floor", [lead])).state["due_at"]
    assert due is not None
    return due  # type: ignore[no-any-return]


def _by_email(report: Report) -> dict[str, RepFigures]:
    return {r.email: r for r in report.reps}


@pytest.fixture
def week(make_floor: FloorFactory) -> tuple[Floor, Report, dict[str, str]]:  # noqa: F811 - the imported fixture
    """A routed lead touched in 30 min, a lead Ana lets breach, a lead Ben closes early (HubSpot sandbox)."""
    floor = make_floor(Vendor.HUBSPOT)
    routed = floor.lead(score=80, owner=floor.queue)
    breached = floor.lead(score=80, owner="ana")
    closed = floor.lead(score=80, owner="ben")
    _cycle(floor)
    first = floor.rep_key(floor.owner_of(routed)) or ""
    floor.clock.advance(timedelta(minutes=30))
    floor.touch(routed, first)
    floor.touch(closed, "ben")
    floor.close(closed, "Not Interested")
    _cycle(floor)
    floor.clock.set(_due(floor, breached) + timedelta(minutes=1))
    _cycle(floor)
    second = floor.rep_key(floor.owner_of(breached)) or ""
    report = report_from_store(floor.db, floor.policy, WEEK, floor.clock.now())
    return floor, report, {"routed_to": first, "breached_to": second}


def test_report_reads_the_engines_history(week: tuple[Floor, Report, dict[str, str]]) -> None:
    """Routing, a first touch, a breach with its reassignment and an early close all land on the right reps."""
    _floor, report, who = week
    assert who == {"routed_to": "ana", "breached_to": "ben"}  # round robin from the top, then the next rep
    reps = _by_email(report)
    ana, ben = reps["ana@acme.test"].figures, reps["ben@acme.test"].figures
    # Ana: the routed lead touched 30 min after routing (in SLA), her own lead never touched (missed, breach).
    assert (ana.mqls_assigned, ana.sla_evaluated, ana.worked_within_sla) == (2, 2, 1)
    assert ana.median_first_touch_business_minutes == pytest.approx(30.0)
    assert (ana.breaches, ana.reassignments_out) == (1, 1)
    # Ben: his lead touched then closed early (reopened); Ana's breached lead arrives, its deadline still ahead.
    assert (ben.mqls_assigned, ben.sla_evaluated, ben.worked_within_sla) == (2, 1, 1)
    assert (ben.reassignments_in, ben.early_closes) == (1, 1)
    assert report.totals.mqls_delivered == 3
    assert sum(c.inflow for c in report.capacity) == 3
