"""The store side of capture on SQLite and PostgreSQL: the sink, the lead directory and the activity ledger."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from crmsync.capture.matching import CaptureMatch, activity_key
from crmsync.capture.model import BodyPolicy
from crmsync.capture.store_sink import StoreLeadDirectory, StoreSink, load_reps, outbox_key
from crmsync.clock import FakeClock
from crmsync.crm.ledger import LedgerEntry
from crmsync.crm.ports import Outcome, OutcomeStatus
from crmsync.domain import (
    Activity,
    ActivitySource,
    Channel,
    Direction,
    Lead,
    LeadRef,
    LogActivity,
    Owner,
    OwnerKind,
)
from crmsync.outbox.dispatcher import mark_logged_activities
from crmsync.outbox.model import OutboxStatus
from crmsync.store.migrate import upgrade
from crmsync.store.repositories import activities, leads, outbox, roster
from crmsync.store.repositories.ledger import DatabaseLedger
from crmsync.store.session import Database
from tests.logguard import sentinel

CONN = "acme"
NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
BODY = sentinel("sentinel-sink-body-0c4a " + "word " * 200)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A migrated store on each backend."""
    upgrade(db_url)
    database = Database(db_url)
    yield database
    database.dispose()


def match(lead_id: str, capture_key: str = "mid:1@x.example", body: str | None = BODY) -> CaptureMatch:
    """A captured outbound email to ``lead_id``, with the LogActivity that logs it."""
    key = activity_key(capture_key, lead_id)
    activity = Activity(CONN, key, lead_id, "005A", Channel.EMAIL, Direction.OUTBOUND, NOW, ActivitySource.CAPTURE,
                        subject="Pricing")  # fmt: skip
    action = LogActivity(LeadRef(CONN, lead_id), key, "005A", Channel.EMAIL, Direction.OUTBOUND, NOW, "Pricing", body)
    return CaptureMatch(activity, action)


def seed_leads(db: Database, *emails: str) -> list[str]:
    """Leads 00Q0.. with ``emails``, stored and not due."""
    made = [
        Lead(ref=LeadRef(CONN, f"00Q{i}"), owner_id="005A", email=email, status="Open", created_at=NOW, modified_at=NOW)
        for i, email in enumerate(emails)
    ]
    with db.transaction() as session:
        leads.upsert_leads(session, made, NOW)
    return [lead.ref.lead_id for lead in made]


def test_sink_stores_marks_due_and_enqueues_once(db: Database, clock: FakeClock) -> None:
    """A batch lands with its leads due now and one CAPTURE row per activity; the same batch again adds nothing."""
    seed_leads(db, "bob@x.example", "carol@x.example")
    sink = StoreSink(db, clock, CONN, body=BodyPolicy.SNIPPET, policy_hash="abc")
    batch = [match("00Q0"), match("00Q1"), match("00Q0")]
    assert sink.add(batch) == 2
    assert sink.add(batch) == 0
    with db.transaction() as session:
        due = set(leads.due_lead_ids(session, CONN, clock.now()))
        rows = outbox.find(session, connection=CONN)
    assert due == {"00Q0", "00Q1"}
    assert sorted(r.entry.key for r in rows) == sorted(outbox_key(CONN, m.log.lead.lead_id, m.log.capture_key)
                                                       for m in batch[:2])  # fmt: skip
    assert {(r.kind, r.priority, r.payload["rule"], r.payload["policy_hash"]) for r in rows} == {
        ("logactivity", 1, "capture", "abc")
    }
    assert sink.enqueued == 2


@pytest.mark.parametrize(
    ("policy", "expected"),
    [(BodyPolicy.NONE, 0), (BodyPolicy.SNIPPET, 300), (BodyPolicy.FULL, len(BODY.strip()))],
    ids=["none", "snippet", "full"],
)
def test_sink_never_queues_more_body_than_the_policy_allows(
    db: Database, clock: FakeClock, policy: BodyPolicy, expected: int
) -> None:
    """Whatever body the reader handed over, the outbox payload holds at most what the sink's policy allows."""
    StoreSink(db, clock, CONN, body=policy).add([match("00Q0")])
    with db.transaction() as session:
        [row] = outbox.find(session, connection=CONN)
    assert len(row.payload["action"]["body"] or "") <= expected
    assert (row.payload["action"]["body"] is None) is (policy is BodyPolicy.NONE)


def test_logged_activity_is_not_queued_again_and_keeps_its_crm_id(db: Database, clock: FakeClock) -> None:
    """Once the dispatcher marked an activity logged, recapturing it neither enqueues a row nor clears the CRM id."""
    sink = StoreSink(db, clock, CONN, body=BodyPolicy.NONE)
    first = match("00Q0")
    sink.add([first])
    with db.transaction() as session:
        [row] = outbox.find(session, connection=CONN)
        outbox.save(session, replace(row.entry, status=OutboxStatus.DONE), NOW)
        mark_logged_activities(session, [(first.log, Outcome(OutcomeStatus.DONE, crm_id="00T1"))], NOW)
    sink.add([match("00Q0", body="again")])
    with db.transaction() as session:
        stored = list(activities.activities_for_leads(session, CONN, ["00Q0"]))
        rows = outbox.find(session, connection=CONN)
    assert [(a.crm_id, logged) for a, logged in stored] == [("00T1", NOW)]
    assert len(rows) == 1


def test_sink_refuses_another_connections_matches(db: Database, clock: FakeClock) -> None:
    """A match of another connection is a wiring mistake and raises instead of being stored under the wrong one."""
    other = match("00Q0")
    other = CaptureMatch(replace(other.activity, connection="other"), other.log)
    with pytest.raises(ValueError, match="another connection"):
        StoreSink(db, clock, CONN, body=BodyPolicy.NONE).add([other])


def test_directory_finds_live_leads_by_exact_and_folded_address(db: Database) -> None:
    """Leads are found by stored email, exact or with a +tag folded away; unknown addresses find nothing."""
    seed_leads(db, "Bob@X.example", "carol@x.example")
    index = StoreLeadDirectory(db, CONN).index_for({"bob@x.example", "carol+crm@x.example", "zed@x.example"})
    assert (index.find("bob@x.example"), index.find("carol+crm@x.example"), index.find("zed@x.example")) == (
        ("00Q0",),
        ("00Q1",),
        (),
    )


def test_reps_are_the_active_users_of_the_roster(db: Database) -> None:
    """The rep index maps normalised emails of active users to owner ids; queues and inactive users are absent."""
    owners = [
        Owner(CONN, "005A", OwnerKind.USER, "Ana", "Ana@Acme.test"),
        Owner(CONN, "005B", OwnerKind.USER, "Ben", "ben@acme.test", active=False),
        Owner(CONN, "00G1", OwnerKind.QUEUE, "Holding", "queue@acme.test"),
    ]
    with db.transaction() as session:
        roster.upsert_reps(session, owners, NOW)
    assert load_reps(db, CONN) == {"ana@acme.test": "005A"}


def test_ledger_keeps_begun_and_completed_keys_across_instances(db: Database, clock: FakeClock) -> None:
    """Begun keys are pending, completed keys stay completed when begun again, and a new instance sees both."""
    ledger = DatabaseLedger(db, clock)
    ledger.begin(CONN, ["k1", "k2", "k1"])
    ledger.complete(CONN, "k1", "101")
    ledger.begin(CONN, ["k1", "k3"])
    clock.advance(timedelta(minutes=1))
    again = DatabaseLedger(db, clock)
    assert again.lookup(CONN, ["k1", "k2", "k3", "k4"]) == {
        "k1": LedgerEntry("k1", "101"),
        "k2": LedgerEntry("k2"),
        "k3": LedgerEntry("k3"),
    }
    assert again.lookup("other", ["k1"]) == {}


def test_ledger_complete_without_begin_records_the_id(db: Database, clock: FakeClock) -> None:
    """A reconciled key completed without a begin in this store (e.g. restored database) is recorded."""
    ledger = DatabaseLedger(db, clock)
    ledger.complete(CONN, "k9", "909")
    assert ledger.lookup(CONN, ["k9"]) == {"k9": LedgerEntry("k9", "909")}
