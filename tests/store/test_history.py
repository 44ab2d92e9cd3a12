"""Contract: assignment history, audit trail, connections and reps, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from crmsync.domain import Owner, OwnerKind, Vendor
from crmsync.store.repositories import history, roster
from crmsync.store.repositories.history import AssignmentEntry, AuditEntry
from crmsync.store.session import Database
from crmsync.store.tables import AssignmentKind
from tests.store.helpers import CONN, NOW


def test_assignment_history_round_trips_oldest_first(db: Database) -> None:
    """Ownership events come back for their lead only, oldest first, with rule, method, reason and candidates."""
    routed = AssignmentEntry(
        connection=CONN,
        lead_id="L1",
        kind=AssignmentKind.ROUTE,
        owner_id="005A",
        previous_owner_id="00GQ",
        at=NOW,
        rule="emea-enterprise",
        method="round_robin",
        reason="MQL from holding queue",
        candidates=({"owner_id": "005Z", "skipped": "out of office"}, {"owner_id": "005A", "skipped": None}),
        policy_hash="p1",
    )
    breach = AssignmentEntry(
        connection=CONN,
        lead_id="L1",
        kind=AssignmentKind.REASSIGN,
        owner_id="005B",
        previous_owner_id="005A",
        at=NOW + timedelta(hours=4),
        reason="first touch breached",
    )
    other = AssignmentEntry(CONN, "L2", AssignmentKind.HIDE, "00GQ", "005A", NOW)
    with db.transaction() as session:
        assert history.append_assignments(session, [breach, routed, other]) == 3
    with db.transaction() as session:
        assert history.assignment_history(session, CONN, "L1") == [routed, breach]


def test_audit_trail_round_trips_oldest_first(db: Database) -> None:
    """Audit entries keep before/after values, rule, policy hash and outbox key, per lead, oldest first."""
    first = AuditEntry(
        connection=CONN,
        lead_id="L1",
        action="assign",
        at=NOW,
        before={"owner_id": "00GQ"},
        after={"owner_id": "005A", "due_at": "2026-03-02T15:00:00+00:00"},
        rule="emea",
        policy_hash="p1",
        outbox_key="assign:L1:1",
    )
    second = AuditEntry(CONN, "L1", "flag", NOW + timedelta(minutes=1))
    with db.transaction() as session:
        history.append_audit(session, [second, first, AuditEntry(CONN, "L2", "hide", NOW)])
    with db.transaction() as session:
        assert history.audit_trail(session, CONN, "L1") == [first, second]


def test_connections_are_recorded_once(db: Database) -> None:
    """Ensuring a connection twice keeps its first vendor and creation time."""
    with db.transaction() as session:
        roster.ensure_connection(session, CONN, Vendor.SALESFORCE, NOW)
        roster.ensure_connection(session, CONN, Vendor.HUBSPOT, NOW + timedelta(1))
        roster.ensure_connection(session, "hs", Vendor.HUBSPOT, NOW)
    with db.transaction() as session:
        assert roster.connections(session) == {CONN: Vendor.SALESFORCE, "hs": Vendor.HUBSPOT}


def test_reps_upsert_twice_keeps_one_row_with_the_new_values(db: Database) -> None:
    """Reps and queues are keyed by (connection, owner id); a second upsert refreshes them."""
    ann = Owner(CONN, "005A", OwnerKind.USER, "Ann", "ann@corp.example", True, "Europe/Paris")
    queue = Owner(CONN, "00GQ", OwnerKind.QUEUE, "Holding")
    with db.transaction() as session:
        roster.upsert_reps(session, [ann, queue, Owner("hs", "005A", OwnerKind.USER, "Other")], NOW)
        roster.upsert_reps(session, [Owner(CONN, "005A", OwnerKind.USER, "Ann B", active=False)], NOW)
    with db.transaction() as session:
        assert roster.list_reps(session, CONN) == [
            Owner(CONN, "005A", OwnerKind.USER, "Ann B", active=False),
            queue,
        ]
