"""The whole pipeline on both CRMs through the real HTTP adapters: pull → decide → enqueue → dispatch → CRM."""

from __future__ import annotations

from datetime import datetime, timedelta

from crmsync.outbox.model import OutboxStatus
from crmsync.store.repositories import leads
from crmsync.store.repositories import outbox as outbox_rows
from crmsync.sync.cycle import CycleReport
from tests.sync.conftest import RECYCLE_REASON, REPS, Floor


def _statuses(floor: Floor) -> dict[str, OutboxStatus]:
    with floor.db.transaction() as session:
        return {item.entry.key: item.entry.status for item in outbox_rows.find(session, limit=10_000)}


def test_non_mql_owned_by_a_rep_is_hidden(floor: Floor) -> None:
    """A lead below the MQL score that a rep owns moves to the holding queue with a status saying why."""
    lead = floor.lead(score=42, owner="ana")
    floor.settle()
    report = floor.cycle().run()
    _no_dead(report, floor)
    assert floor.owner_of(lead) == floor.queue
    assert floor.value(lead, "Crmsync_Status__c", "crmsync_status") == "not MQL: score 42 < 60"


def _no_dead(report: CycleReport, floor: Floor) -> None:
    """The cycle dispatched, and nothing it applied was refused for good."""
    assert report.dispatched is not None
    assert report.dispatched.dead == 0, _statuses(floor)


def _due_at(floor: Floor, lead: str) -> datetime:
    with floor.db.transaction() as session:
        stored = next(leads.leads_by_ids(session, "floor", [lead]))
    due = stored.state["due_at"]
    assert due is not None, f"lead {lead} has no due time (state {stored.state['state']})"
    return due  # type: ignore[no-any-return]


def _when_due(floor: Floor, lead: str) -> CycleReport:
    """Move the clock just past the lead's due time (and the pull lag) and run a cycle."""
    floor.clock.set(_due_at(floor, lead) + timedelta(minutes=6))
    report = floor.cycle().run()
    _no_dead(report, floor)
    return report


def test_mql_in_the_holding_queue_is_routed_with_a_task(floor: Floor) -> None:
    """An MQL waiting in the holding queue goes to the first rep of the round robin, who gets a task."""
    lead = floor.lead(score=80, owner=floor.queue)
    floor.settle()
    report = floor.cycle().run()
    _no_dead(report, floor)
    owner = floor.owner_of(lead)
    assert floor.rep_key(owner) in REPS
    assert [o for o, subject in floor.tasks_for(lead) if subject.startswith("Assigned to you")] == [owner]


def test_untouched_mql_is_reassigned_then_recycled_after_two_reassignments(floor: Floor) -> None:
    """Each missed first touch moves the lead to a new rep with a task; the third breach recycles it with the reason."""
    lead = floor.lead(score=80, owner="ana")
    floor.settle()
    floor.cycle().run()  # crmsync first sees ana's ownership: her clock starts now
    owners = [floor.owner_of(lead)]
    for _ in range(2):
        _when_due(floor, lead)
        new = floor.owner_of(lead)
        assert new not in owners, (owners, new)
        assert floor.rep_key(new) in REPS
        assert any(o == new and s.startswith("Reassigned to you") for o, s in floor.tasks_for(lead))
        owners.append(new)
    _when_due(floor, lead)
    assert floor.owner_of(lead) == floor.queue
    assert floor.status_of(lead) == floor.closed_status
    assert floor.value(lead, "Disposition_Reason__c", "disposition_reason") == RECYCLE_REASON


def test_lead_closed_after_one_touch_is_reopened_with_the_reason(floor: Floor) -> None:
    """A rep who closes an MQL after one touch (three required) sees it reopened, with the reason written."""
    lead = floor.lead(score=80, owner="ana")
    floor.settle()
    floor.cycle().run()
    floor.clock.advance(timedelta(minutes=10))
    floor.touch(lead, "ana")
    floor.close(lead, "Not Interested")
    floor.settle()
    report = floor.cycle().run()
    _no_dead(report, floor)
    assert floor.status_of(lead) == floor.open_status
    assert floor.owner_of(lead) == floor.reps["ana"]
    assert floor.value(lead, "Crmsync_Status__c", "crmsync_status") == "Reopened: 1 of 3 required touches"


def test_lead_touched_between_decision_and_dispatch_is_left_alone(floor: Floor) -> None:
    """A reassignment decided before the owner's touch is dropped at dispatch: the owner keeps the lead."""
    lead = floor.lead(score=80, owner="ana")
    floor.settle()
    floor.cycle().run()
    floor.clock.set(_due_at(floor, lead) + timedelta(minutes=6))
    decided = floor.cycle().run(do_dispatch=False)
    assert decided.enqueued >= 1
    floor.clock.advance(timedelta(minutes=1))
    floor.touch(lead, "ana")
    floor.settle()
    report = floor.cycle().run()
    assert report.dispatched is not None
    assert report.dispatched.skipped >= 1
    assert floor.owner_of(lead) == floor.reps["ana"]
    skipped = {k for k, s in _statuses(floor).items() if s is OutboxStatus.SKIPPED}
    assert any(":reassign:" in k for k in skipped), skipped


def test_no_reassignment_task_when_the_reassignment_did_not_land(floor: Floor) -> None:
    """When the reassignment is dropped at dispatch, its task for the would-be new owner is dropped too."""
    lead = floor.lead(score=80, owner="ana")
    floor.settle()
    floor.cycle().run()
    floor.clock.set(_due_at(floor, lead) + timedelta(minutes=6))
    floor.cycle().run(do_dispatch=False)
    floor.clock.advance(timedelta(minutes=1))
    floor.touch(lead, "ana")
    floor.settle()
    floor.cycle().run()
    assert floor.owner_of(lead) == floor.reps["ana"]
    assert [s for _, s in floor.tasks_for(lead) if s.startswith("Reassigned to you")] == [], _statuses(floor)
