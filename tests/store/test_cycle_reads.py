"""Contract: the reads and marks the sync cycle relies on to cost what changed, not the org's size."""

from __future__ import annotations

from datetime import timedelta

from crmsync.domain import LeadRef
from crmsync.store.repositories import history, leads
from crmsync.store.repositories.history import AssignmentEntry
from crmsync.store.repositories.leads import StateUpdate, blank_state
from crmsync.store.session import Database
from crmsync.store.tables import AssignmentKind
from tests.store.helpers import CONN, NOW, make_lead


def _due_ids(db: Database, at: object) -> list[str]:
    with db.transaction() as session:
        return leads.due_lead_ids(session, CONN, at)  # type: ignore[arg-type]


def test_mark_due_makes_changed_leads_due_without_postponing_earlier_ones(db: Database) -> None:
    """Marking leads due sets due_at to now, but never moves an earlier due time later."""
    with db.transaction() as session:
        leads.upsert_leads(session, [make_lead("L1"), make_lead("L2"), make_lead("L3")], NOW)
        early = blank_state() | {"due_at": NOW - timedelta(hours=1)}
        leads.save_lead_states(session, [StateUpdate(LeadRef(CONN, "L2"), early, {})], NOW)
    assert _due_ids(db, NOW) == ["L2"]
    with db.transaction() as session:
        assert leads.mark_due(session, CONN, ["L1", "L2", "L9"], NOW) == 1
    assert _due_ids(db, NOW) == ["L2", "L1"]


def test_open_leads_of_counts_only_the_named_owners_open_leads(db: Database) -> None:
    """Closed, converted and deleted leads do not count, and owners not asked about are not read."""
    batch = [
        make_lead("L1", owner_id="005A"),
        make_lead("L2", owner_id="005A"),
        make_lead("L3", owner_id="005A", converted=True),
        make_lead("L4", owner_id="005B", deleted=True),
        make_lead("L5", owner_id="00GQ"),
    ]
    with db.transaction() as session:
        leads.upsert_leads(session, batch, NOW)
        closed = blank_state() | {"closed_at": NOW}
        leads.save_lead_states(session, [StateUpdate(LeadRef(CONN, "L2"), closed, {})], NOW)
    with db.transaction() as session:
        assert leads.open_leads_of(session, CONN, ["005A", "005B"]) == {"005A": 1}


def test_assignments_since_counts_todays_intake_by_kind(db: Database) -> None:
    """Only routes and reassignments at or after the start of the day count toward today's intake."""

    def entry(lead: str, owner: str, kind: AssignmentKind, hours: int) -> AssignmentEntry:
        return AssignmentEntry(CONN, lead, kind, owner, None, NOW + timedelta(hours=hours))

    with db.transaction() as session:
        history.append_assignments(
            session,
            [
                entry("L1", "005A", AssignmentKind.ROUTE, -30),
                entry("L2", "005A", AssignmentKind.ROUTE, 0),
                entry("L3", "005A", AssignmentKind.REASSIGN, 1),
                entry("L4", "005B", AssignmentKind.HIDE, 1),
            ],
        )
    with db.transaction() as session:
        counts = history.assignments_since(session, CONN, NOW, [AssignmentKind.ROUTE, AssignmentKind.REASSIGN])
    assert counts == {"005A": 2}


def test_recaptured_activity_keeps_its_logged_crm_id(db: Database) -> None:
    """Seeing a captured message again (rescan, crash replay) never clears the CRM id its log stored."""
    from crmsync.domain import Activity, ActivitySource, Channel, Direction
    from crmsync.store.repositories import activities

    captured = Activity(CONN, "cap1-abc", "L1", "005A", Channel.EMAIL, Direction.OUTBOUND, NOW, ActivitySource.CAPTURE)
    with db.transaction() as session:
        activities.upsert_activities(session, [captured])
        activities.mark_logged(session, CONN, "cap1-abc", "00T000000000001", NOW)
    with db.transaction() as session:
        activities.upsert_activities(session, [captured])
    with db.transaction() as session:
        (stored, logged_at) = next(iter(activities.activities_for_leads(session, CONN, ["L1"])))
    assert (stored.crm_id, logged_at) == ("00T000000000001", NOW)
