"""Contract: lead snapshots, derived state and streaming reads, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from crmsync.domain import LeadRef
from crmsync.store.repositories import leads
from crmsync.store.repositories.leads import StateUpdate, blank_state
from crmsync.store.session import Database
from crmsync.store.tables import LeadRow
from tests.store.helpers import CONN, NOW, make_lead


def _state(**changes: Any) -> dict[str, Any]:
    return blank_state() | changes


def test_upsert_twice_keeps_one_row_with_the_new_values(db: Database) -> None:
    """Upserting the same lead twice leaves one row holding the second snapshot."""
    with db.transaction() as session:
        leads.upsert_leads(session, [make_lead("L1")], NOW)
    changed = make_lead("L1", owner_id="005B", status="Working", fields={"Score": 90}, email=" X@Example.COM ")
    with db.transaction() as session:
        leads.upsert_leads(session, [changed], NOW + timedelta(minutes=5))
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(LeadRow)) == 1
        (stored,) = leads.leads_by_ids(session, CONN, ["L1"])
    assert stored.lead.owner_id == "005B"
    assert stored.lead.status == "Working"
    assert stored.lead.fields == {"Score": 90}
    assert stored.lead.email == "x@example.com"
    assert stored.updated_at == NOW + timedelta(minutes=5)


def test_a_batch_repeating_a_lead_keeps_the_last_snapshot(db: Database) -> None:
    """Within one batch, a lead that appears twice ends with its last snapshot."""
    with db.transaction() as session:
        leads.upsert_leads(session, [make_lead("L1", status="A"), make_lead("L1", status="B")], NOW)
    with db.transaction() as session:
        (stored,) = leads.leads_by_ids(session, CONN, ["L1"])
    assert stored.lead.status == "B"


def test_snapshot_upsert_leaves_derived_state_alone(db: Database) -> None:
    """Pulling a fresh snapshot does not erase the SLA state the engine derived."""
    state = _state(mql=True, state="working", touches_call=2, previous_owners=["005X"], due_at=NOW)
    with db.transaction() as session:
        leads.upsert_leads(session, [make_lead("L1")], NOW)
        leads.save_lead_states(session, [StateUpdate(LeadRef(CONN, "L1"), state, {"epoch": 3})], NOW)
    with db.transaction() as session:
        leads.upsert_leads(session, [make_lead("L1", status="Working")], NOW)
    with db.transaction() as session:
        (stored,) = leads.leads_by_ids(session, CONN, ["L1"])
    assert (stored.state, stored.extras) == (state, {"epoch": 3})
    assert stored.lead.status == "Working"


def test_new_leads_start_with_a_blank_state(db: Database) -> None:
    """A lead seen for the first time has zero counts, no dates and no extras."""
    with db.transaction() as session:
        leads.upsert_leads(session, [make_lead("L1")], NOW)
    with db.transaction() as session:
        (stored,) = leads.leads_by_ids(session, CONN, ["L1"])
    assert (stored.state, stored.extras) == (blank_state(), {})


def test_state_with_missing_or_unknown_columns_is_refused(db: Database) -> None:
    """Derived state must name exactly the table's columns, so a renamed field cannot be dropped silently."""
    with db.transaction() as session:
        leads.upsert_leads(session, [make_lead("L1")], NOW)
        partial = {k: v for k, v in blank_state().items() if k != "due_at"}
        with pytest.raises(ValueError, match="due_at"):
            leads.save_lead_states(session, [StateUpdate(LeadRef(CONN, "L1"), partial, {})], NOW)
        bad = blank_state() | {"owner_touch_at": NOW}
        with pytest.raises(ValueError, match="owner_touch_at"):
            leads.save_lead_states(session, [StateUpdate(LeadRef(CONN, "L1"), bad, {})], NOW)


def test_saving_state_for_an_unknown_lead_writes_nothing(db: Database) -> None:
    """Derived state for a lead that was never pulled creates no row."""
    with db.transaction() as session:
        leads.save_lead_states(session, [StateUpdate(LeadRef(CONN, "nope"), _state(mql=True), {})], NOW)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(LeadRow)) == 0


def test_due_leads_stream_in_due_order_and_only_when_due(db: Database) -> None:
    """Only leads of the connection with ``due_at <= now`` stream, earliest first, ties by id."""
    dues = {"L1": NOW + timedelta(minutes=1), "L2": NOW, "L3": NOW - timedelta(hours=2), "L4": None, "L5": NOW}
    with db.transaction() as session:
        leads.upsert_leads(session, [make_lead(i) for i in dues], NOW)
        leads.upsert_leads(session, [make_lead("L9", connection="other")], NOW)
        states = [StateUpdate(LeadRef(CONN, i), _state(due_at=due), {}) for i, due in dues.items()]
        leads.save_lead_states(session, [*states, StateUpdate(LeadRef("other", "L9"), _state(due_at=NOW), {})], NOW)
    with db.transaction() as session:
        due = leads.due_lead_ids(session, CONN, NOW)
    assert due == ["L3", "L2", "L5"]


def test_streams_yield_every_row_across_batches(db: Database) -> None:
    """A stream smaller-batched than the table still yields every lead once, by id."""
    ids = [f"L{n:03d}" for n in range(25)]
    with db.transaction() as session:
        leads.upsert_leads(session, [make_lead(i) for i in reversed(ids)], NOW)
    with db.transaction() as session:
        streamed = [s.lead.ref.lead_id for s in leads.stream_leads(session, CONN, batch=4)]
    assert streamed == ids


def test_leads_by_ids_reads_across_chunks_and_skips_unknown(db: Database) -> None:
    """Asking for more ids than one IN list holds returns every stored one and ignores unknown ids."""
    ids = [f"L{n:04d}" for n in range(1_200)]
    with db.transaction() as session:
        leads.upsert_leads(session, [make_lead(i) for i in ids], NOW)
    with db.transaction() as session:
        found = {s.lead.ref.lead_id for s in leads.leads_by_ids(session, CONN, [*ids, "missing"])}
    assert found == set(ids)


def test_leads_by_email_match_normalised(db: Database) -> None:
    """Emails are matched trimmed and case-insensitively, within the connection."""
    with db.transaction() as session:
        leads.upsert_leads(session, [make_lead("L1", email="Ann@Example.com"), make_lead("L2")], NOW)
        leads.upsert_leads(session, [make_lead("L3", connection="other", email="ann@example.com")], NOW)
    with db.transaction() as session:
        found = [s.lead.ref for s in leads.leads_by_emails(session, CONN, ["  ANN@example.COM", ""])]
    assert found == [LeadRef(CONN, "L1")]


def test_stored_lead_round_trips_every_field(db: Database) -> None:
    """What goes in comes back equal: snapshot, flags, JSON fields and aware datetimes."""
    lead = replace(make_lead("L1"), converted=True, fields={"a": [1, "x"], "b": None, "c": {"d": 1.5}})
    state = _state(
        mql=False,
        state="recycled",
        sla_tier="gold",
        assigned_at=NOW,
        first_touch_at=NOW,
        touches_email=1,
        touches_call=2,
        touches_meeting=3,
        last_touch_at=NOW,
        replied_at=NOW,
        reply_count=1,
        reassignment_count=2,
        previous_owners=["005A", "005B"],
        closed_at=NOW,
        disposition="no_budget",
        due_at=None,
        policy_hash="abc",
    )
    extras = {"pending": {"kind": "route", "owner_id": "005B", "at": NOW.isoformat()}, "epoch": 2}
    with db.transaction() as session:
        leads.upsert_leads(session, [lead], NOW)
        leads.save_lead_states(session, [StateUpdate(lead.ref, state, extras)], NOW)
    with db.transaction() as session:
        (stored,) = leads.leads_by_ids(session, CONN, ["L1"])
    assert stored.lead == replace(lead, email="l1@example.com")
    assert (stored.state, stored.extras) == (state, extras)
