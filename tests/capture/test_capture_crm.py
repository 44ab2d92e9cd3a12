"""Capture end to end: a real Dovecot (and Radicale) → the store → the outbox → the sandbox CRM over HTTP.

Every test runs on Salesforce and HubSpot through the real adapters, and counts the activity records
crmsync logged in the sandbox org: nothing missed, nothing twice, whatever was killed where.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
import requests
from imapclient import IMAPClient
from sqlalchemy.orm import Session

from crmsync.capture.cursors import Cursor, CursorStore
from crmsync.capture.job import build_matcher, capture_sources, run_capture
from crmsync.capture.model import SNIPPET_CHARS, BodyPolicy
from crmsync.capture.settings import CalDavSource, ImapSource, SecretRef
from crmsync.capture.store_sink import StoreSink
from crmsync.crm.ports import Outcome
from crmsync.domain import Action, Direction, Vendor
from crmsync.outbox.model import OutboxStatus
from crmsync.store.repositories import activities, leads, outbox
from crmsync.store.repositories.coordination import DatabaseCursorStore
from crmsync.store.repositories.ledger import DatabaseLedger
from crmsync.sync.pull import pull
from tests.capture import servers
from tests.capture.conftest import make_message
from tests.capture.crm_floor import CONNECTION, LEADS, CaptureFloor, FloorFactory, make_floor
from tests.capture.test_calendar import put, vevent
from tests.capture.test_imap import append
from tests.logguard import sentinel

__all__ = ["make_floor"]

pytestmark = pytest.mark.imap

BOB, CAROL, DAN = (sentinel(a) for a in LEADS)
BODY = sentinel("sentinel-crm-body-5be1 " + "we would love to walk you through the proposal in detail " * 12).strip()
VENDORS = pytest.mark.parametrize("vendor", [Vendor.SALESFORCE, Vendor.HUBSPOT], ids=["salesforce", "hubspot"])


def imap(dovecot: servers.Dovecot, login: str, **kw: object) -> ImapSource:
    """The rep's mailbox on the test Dovecot (plain port), INBOX and Sent."""
    fields: dict[str, object] = {
        "connection": CONNECTION,
        "name": "ana-mail",
        "host": "127.0.0.1",
        "port": dovecot.port,
        "tls": "none",
        "username": login,
        "password": SecretRef(value=servers.PASSWORD),
        "chunk_size": 2,
    }
    fields.update(kw)
    return ImapSource.model_validate(fields)


def seed(dovecot: servers.Dovecot, login: str) -> None:
    """Two touches to log (a mail to Bob, Carol's reply) and four that must not be logged."""
    append(
        dovecot,
        login,
        "INBOX",
        [
            make_message(
                sender=CAROL, to=[login], subject="Re: Proposal", body=BODY, message_id="<c1@customer.example>"
            ),
            make_message(sender="cfo@acme.test", to=[login], subject="internal only"),
            make_message(sender="MAILER-DAEMON@mx.customer.example", to=[login], subject="Undelivered"),
            make_message(sender="erin@lawfirm.example", to=[login], subject="privileged"),
        ],
    )
    append(
        dovecot,
        login,
        "Sent",
        [make_message(sender=login, to=[BOB], cc=["ben@acme.test"], subject="Proposal", body=BODY)],
    )


def by_lead(floor: CaptureFloor) -> dict[str, int]:
    """How many logged CRM records each lead (by email) has."""
    ids = {v: k for k, v in floor.leads.items()}
    counts: dict[str, int] = {}
    for record in floor.logged():
        email = ids.get(floor.lead_of(record) or "", "?")
        counts[email] = counts.get(email, 0) + 1
    return counts


def unlogged(floor: CaptureFloor) -> int:
    with floor.db.transaction() as session:
        return len(activities.unlogged_captures(session, CONNECTION, limit=100))


@VENDORS
def test_capture_twice_logs_each_touch_once(
    make_floor: FloorFactory, dovecot: servers.Dovecot, mailbox_login: str, vendor: Vendor
) -> None:
    """A thread with internal, never-log and bounce mail logs one record per lead touch, and a second run adds none."""
    floor = make_floor(vendor, mailbox_login)
    seed(dovecot, mailbox_login)
    source = imap(dovecot, mailbox_login)
    first = run_capture(floor.runtime([source]), CONNECTION)
    second = run_capture(floor.runtime([source]), CONNECTION)
    assert (first.read, first.stored, first.logged, first.failed) == (5, 2, 2, [])
    assert first.skipped == {"internal_only": 1, "bounce": 1, "never_log": 1}
    assert (second.read, second.stored, second.logged) == (0, 0, 0)
    assert by_lead(floor) == {BOB: 1, CAROL: 1}
    owners = {r.get("OwnerId") or r.get("hubspot_owner_id") for r in floor.logged()}
    assert owners == {floor.rep_id}
    assert unlogged(floor) == 0


@VENDORS
def test_a_stored_touch_counts_before_the_crm_write(
    make_floor: FloorFactory, dovecot: servers.Dovecot, mailbox_login: str, vendor: Vendor
) -> None:
    """Without dispatch, the touch is stored, its lead is due now and a CAPTURE-priority row waits in the outbox."""
    floor = make_floor(vendor, mailbox_login)
    seed(dovecot, mailbox_login)
    floor.clock.advance(timedelta(hours=1))
    run_capture(floor.runtime([imap(dovecot, mailbox_login)]), CONNECTION, dispatch=False)
    now = floor.clock.now()
    with floor.db.transaction() as session:
        due = set(leads.due_lead_ids(session, CONNECTION, now))
        stored = list(activities.activities_for_leads(session, CONNECTION, [floor.leads[BOB], floor.leads[CAROL]]))
        pending = outbox.find(session, status=OutboxStatus.PENDING, connection=CONNECTION)
    assert {floor.leads[BOB], floor.leads[CAROL]} <= due
    assert sorted(a.direction for a, _ in stored) == [Direction.INBOUND, Direction.OUTBOUND]
    assert [(p.kind, p.priority) for p in pending] == [("logactivity", 1), ("logactivity", 1)]
    assert all(p.entry.key.startswith(f"{CONNECTION}/") and ":logactivity:cap1-" in p.entry.key for p in pending)
    assert floor.logged() == []


class CrashingCursors:
    """A cursor store on the database whose process 'dies' on the first save (after the chunk was stored)."""

    def __init__(self, inner: CursorStore) -> None:
        self.inner = inner

    def get_cursor(self, connection: str, source: str, folder: str) -> Cursor | None:
        return self.inner.get_cursor(connection, source, folder)

    def set_cursor(self, connection: str, source: str, folder: str, cursor: Cursor) -> None:
        raise KeyboardInterrupt("simulated kill after the store commit, before the cursor and the dispatch")


@VENDORS
def test_kill_after_store_commit_then_resume(
    make_floor: FloorFactory, dovecot: servers.Dovecot, mailbox_login: str, vendor: Vendor
) -> None:
    """Killed after the first chunk was stored (no cursor, no dispatch), the next run misses nothing and logs once."""
    floor = make_floor(vendor, mailbox_login)
    seed(dovecot, mailbox_login)
    source = imap(dovecot, mailbox_login, folders=["Sent", "INBOX"])
    runtime = floor.runtime([source])
    matcher = build_matcher(runtime, CONNECTION)
    sink = StoreSink(floor.db, floor.clock, CONNECTION, body=BodyPolicy.SNIPPET)
    cursors = CrashingCursors(DatabaseCursorStore(floor.db, floor.clock))
    with pytest.raises(KeyboardInterrupt):
        capture_sources([source], matcher, cursors, sink, floor.clock)
    assert (sink.enqueued, floor.logged()) == (1, [])
    resumed = run_capture(floor.runtime([source]), CONNECTION)
    assert (resumed.read, resumed.stored, resumed.logged) == (5, 1, 2)
    assert by_lead(floor) == {BOB: 1, CAROL: 1}
    assert unlogged(floor) == 0


def crash_before_mark_logged(session: Session, landed: Sequence[tuple[Action, Outcome]], now: datetime) -> None:
    """A dispatcher hook that 'dies' after the CRM answered, before the outcome (and mark_logged) commit."""
    raise KeyboardInterrupt("simulated kill after the CRM write")


@VENDORS
def test_kill_after_crm_write_before_mark_logged_then_resume(
    make_floor: FloorFactory, dovecot: servers.Dovecot, mailbox_login: str, vendor: Vendor
) -> None:
    """Killed after the CRM wrote the records but before the store knew, a restart logs nothing twice."""
    floor = make_floor(vendor, mailbox_login)
    seed(dovecot, mailbox_login)
    source = imap(dovecot, mailbox_login)
    runtime = floor.runtime([source])
    run_capture(runtime, CONNECTION, dispatch=False)
    dispatcher = runtime.cycle(CONNECTION).dispatcher()
    dispatcher.on_done = crash_before_mark_logged
    with pytest.raises(KeyboardInterrupt):
        dispatcher.run()
    assert (len(floor.logged()), unlogged(floor)) == (2, 2)
    floor.clock.advance(timedelta(minutes=2))  # the dead process's leases expire
    resumed = run_capture(floor.runtime([source]), CONNECTION)
    assert (resumed.read, resumed.logged) == (0, 2)
    assert by_lead(floor) == {BOB: 1, CAROL: 1}
    assert unlogged(floor) == 0


class LedgerKilledOnComplete(DatabaseLedger):
    """The store's ledger in a process that dies right after HubSpot created the objects."""

    def complete(self, connection: str, key: str, crm_id: str) -> None:
        raise KeyboardInterrupt("simulated kill between the create and the ledger write")


def test_hubspot_kill_between_create_and_ledger_reconciles_after_restart(
    make_floor: FloorFactory, dovecot: servers.Dovecot, mailbox_login: str
) -> None:
    """Keys left pending in the store's ledger are found by their key property after a restart, not created again."""
    floor = make_floor(Vendor.HUBSPOT, mailbox_login)
    seed(dovecot, mailbox_login)
    source = imap(dovecot, mailbox_login)
    runtime = floor.runtime([source], ledger=LedgerKilledOnComplete(floor.db, floor.clock))
    with pytest.raises(KeyboardInterrupt):
        run_capture(runtime, CONNECTION)
    assert len(floor.logged()) == 2
    pending = DatabaseLedger(floor.db, floor.clock).lookup(
        CONNECTION, [r["crmsync_external_id"] for r in floor.logged()]
    )
    assert [e.pending for e in pending.values()] == [True, True]
    floor.clock.advance(timedelta(minutes=2))
    resumed = run_capture(floor.runtime([source]), CONNECTION)
    assert resumed.logged == 2
    assert by_lead(floor) == {BOB: 1, CAROL: 1}
    done = DatabaseLedger(floor.db, floor.clock).lookup(CONNECTION, [r["crmsync_external_id"] for r in floor.logged()])
    assert {e.crm_id for e in done.values()} == {str(r["hs_object_id"]) for r in floor.logged()}


@VENDORS
def test_uidvalidity_reset_logs_nothing_twice(
    make_floor: FloorFactory, dovecot: servers.Dovecot, mailbox_login: str, vendor: Vendor
) -> None:
    """A recreated folder is read again from the start; only the one new message reaches the CRM."""
    floor = make_floor(vendor, mailbox_login)
    old = [make_message(sender=BOB, to=[mailbox_login], message_id=f"<u{i}@customer.example>") for i in range(2)]
    append(dovecot, mailbox_login, "Deals", old)
    source = imap(dovecot, mailbox_login, folders=["Deals"])
    run_capture(floor.runtime([source]), CONNECTION)
    with IMAPClient("127.0.0.1", port=dovecot.port, ssl=False) as client:
        client.login(mailbox_login, servers.PASSWORD)
        client.delete_folder("Deals")
    newer = make_message(sender=DAN, to=[mailbox_login], message_id="<u-new@customer.example>")
    append(dovecot, mailbox_login, "Deals", [*old, newer])
    again = run_capture(floor.runtime([source]), CONNECTION)
    assert (again.rescans, again.read, again.stored, again.logged) == (1, 3, 1, 1)
    assert by_lead(floor) == {BOB: 2, DAN: 1}


@VENDORS
@pytest.mark.parametrize("body", ["none", "snippet", "full"])
def test_only_what_the_body_policy_allows_reaches_the_crm(
    make_floor: FloorFactory, dovecot: servers.Dovecot, mailbox_login: str, vendor: Vendor, body: str
) -> None:
    """The CRM record and the outbox payload hold no body, a snippet of at most 300 characters, or the whole text."""
    floor = make_floor(vendor, mailbox_login, body=body)
    append(dovecot, mailbox_login, "Sent", [make_message(sender=mailbox_login, to=[BOB], body=BODY)])
    run_capture(floor.runtime([imap(dovecot, mailbox_login)]), CONNECTION)
    [record] = floor.logged()
    sent = floor.body_of(record)
    with floor.db.transaction() as session:
        [row] = outbox.find(session, connection=CONNECTION)
    queued = row.payload["action"]["body"]
    if body == "none":
        assert (sent, queued) == (None, None)
    elif body == "snippet":
        assert sent is not None
        assert len(sent) <= SNIPPET_CHARS
        assert sent.endswith("…")
        assert BODY.startswith(sent[:-1].rstrip())
        assert queued == sent
    else:
        assert sent == queued == BODY


@pytest.mark.caldav
@VENDORS
def test_held_meeting_from_caldav_is_logged_once(
    make_floor: FloorFactory,
    calendar_url: str,
    dav_session: requests.Session,
    vendor: Vendor,
) -> None:
    """Held meetings with leads (each occurrence of a recurring one) are logged once; declined and future ones not."""
    rep = "ana@acme.test"
    floor = make_floor(vendor, rep)
    now = floor.clock.now()
    put(dav_session, calendar_url, vevent(now - timedelta(hours=3), attendees=((BOB, "ACCEPTED"),)))
    put(dav_session, calendar_url, vevent(now - timedelta(hours=5), attendees=((CAROL, "DECLINED"),)))
    put(dav_session, calendar_url, vevent(now + timedelta(days=1), attendees=((CAROL, "ACCEPTED"),)))
    weekly = vevent(now - timedelta(days=15), attendees=((DAN, "ACCEPTED"),), extra="RRULE:FREQ=WEEKLY;COUNT=3")
    put(dav_session, calendar_url, weekly)
    source = CalDavSource(
        connection=CONNECTION,
        name="ana-cal",
        url=calendar_url,
        username=servers.RADICALE_USER,
        password=SecretRef(value=servers.RADICALE_PASSWORD),
        mailbox_owner=rep,
    )
    first = run_capture(floor.runtime([source]), CONNECTION)
    second = run_capture(floor.runtime([source]), CONNECTION)
    assert (first.stored, first.logged, second.stored, second.logged) == (4, 4, 0, 0)
    assert {r["_object"] for r in floor.logged()} == {"Event" if floor.sf else "meetings"}
    assert by_lead(floor) == {BOB: 1, DAN: 3}


def test_a_failing_source_does_not_stop_the_others(
    make_floor: FloorFactory, dovecot: servers.Dovecot, mailbox_login: str
) -> None:
    """A mailbox whose folder does not exist is reported by name; the next source is still read and logged."""
    floor = make_floor(Vendor.SALESFORCE, mailbox_login)
    seed(dovecot, mailbox_login)
    broken = imap(dovecot, mailbox_login, name="broken", folders=["Nope"])
    stats = run_capture(floor.runtime([broken, imap(dovecot, mailbox_login)]), CONNECTION)
    assert (stats.failed, stats.sources, stats.logged) == (["broken"], 1, 2)


@VENDORS
def test_pulling_a_logged_capture_back_keeps_when_it_happened_and_its_automation(
    make_floor: FloorFactory, dovecot: servers.Dovecot, mailbox_login: str, vendor: Vendor
) -> None:
    """The next pull reads crmsync's own record back into the same activity, without moving its time or flags."""
    floor = make_floor(vendor, mailbox_login)
    sent_at = floor.clock.now() - timedelta(hours=3)
    auto = make_message(sender=mailbox_login, to=[BOB], date=sent_at, headers={"Auto-Submitted": "auto-generated"})
    append(dovecot, mailbox_login, "Sent", [auto])
    run_capture(floor.runtime([imap(dovecot, mailbox_login)]), CONNECTION)
    floor.clock.advance(timedelta(minutes=30))
    pull(floor.db, floor.runtime([]).port(CONNECTION), floor.clock)
    with floor.db.transaction() as session:
        stored = list(activities.activities_for_leads(session, CONNECTION, [floor.leads[BOB]]))
    assert [(a.occurred_at, a.automated, a.crm_id is not None) for a, _ in stored] == [(sent_at, True, True)]
