"""Capture from a real Dovecot: cursors, rescans, de-duplication, no \\Seen flags, TLS modes and IDLE."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
import structlog
from imapclient import IMAPClient

from crmsync.capture.cursors import Cursor, CursorStore, InMemoryCursorStore
from crmsync.capture.imap import Folder, ImapReader
from crmsync.capture.matching import CaptureMatch, LeadIndex, MatchOptions
from crmsync.capture.model import BodyPolicy
from crmsync.capture.service import CaptureStats, InMemorySink, Matcher, capture_mailbox
from crmsync.capture.settings import ImapSource, SecretRef
from crmsync.clock import FakeClock
from crmsync.errors import AuthError, ConfigError, FatalError
from crmsync.store.migrate import upgrade
from crmsync.store.repositories.coordination import DatabaseCursorStore
from crmsync.store.session import Database
from tests.capture import servers
from tests.capture.conftest import make_message
from tests.logguard import sentinel

pytestmark = pytest.mark.imap

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
BOB, CAROL = "bob@customer.example", "carol@customer.example"
SECRET_BODY = sentinel("sentinel-capture-body-71c3 please find the pricing attached")


def source(dovecot: servers.Dovecot, login: str, **kw: object) -> ImapSource:
    """An ImapSource for ``login`` on the plain port unless told otherwise."""
    fields: dict[str, object] = {
        "connection": "acme-sf",
        "name": f"mail-{login.partition('@')[0]}",
        "host": "127.0.0.1",
        "port": dovecot.port,
        "tls": "none",
        "username": login,
        "password": SecretRef(value=servers.PASSWORD),
    }
    fields.update(kw)
    return ImapSource.model_validate(fields)


def matcher(login: str) -> Matcher:
    """Leads Bob and Carol; the mailbox owner is rep 005ANA."""
    leads = LeadIndex("acme-sf", {BOB: ["00Q1"], CAROL: ["00Q2"]})
    return Matcher(
        leads,
        {login: "005ANA"},
        MatchOptions(body=BodyPolicy.SNIPPET, never_log_domains=frozenset({"lawfirm.example"})),
    )


def append(dovecot: servers.Dovecot, login: str, folder: str, messages: Sequence[bytes]) -> None:
    """APPEND messages to a folder (created if missing) over a separate connection."""
    with IMAPClient("127.0.0.1", port=dovecot.port, ssl=False) as client:
        client.login(login, servers.PASSWORD)
        if not client.folder_exists(folder):
            client.create_folder(folder)
        for raw in messages:
            client.append(folder, raw)


def run(src: ImapSource, login: str, cursors: CursorStore, sink: InMemorySink) -> CaptureStats:
    """One capture pass over ``src``."""
    with ImapReader(src, body=BodyPolicy.SNIPPET) as reader:
        return capture_mailbox(reader, matcher(login), cursors, sink, NOW)


def seed_thread(dovecot: servers.Dovecot, login: str) -> None:
    """A reply from Bob, an outbound mail to Bob + Carol + a colleague, and four that must not be logged."""
    append(
        dovecot,
        login,
        "INBOX",
        [
            make_message(sender=f"Bob <{BOB}>", to=[login], subject="Re: Pricing", body=SECRET_BODY),
            make_message(sender="cfo@acme.test", to=[login], subject="internal only"),
            make_message(sender="MAILER-DAEMON@mx.customer.example", to=[login], subject="Undelivered"),
            make_message(sender="erin@lawfirm.example", to=[login], subject="privileged"),
            make_message(sender="news@vendor.example", to=[login], subject="newsletter", headers={"List-Id": "<n.v>"}),
        ],
    )
    append(
        dovecot,
        login,
        "Sent",
        [
            make_message(sender=login, to=[BOB, "ben@acme.test"], cc=[CAROL], subject="Pricing", body=SECRET_BODY),
        ],
    )


def test_capture_twice_stores_each_touch_once(dovecot: servers.Dovecot, mailbox_login: str) -> None:
    """A second pass reads nothing new, and the thread yields exactly one reply and two touches."""
    seed_thread(dovecot, mailbox_login)
    cursors, sink = InMemoryCursorStore(), InMemorySink()
    first = run(source(dovecot, mailbox_login), mailbox_login, cursors, sink)
    second = run(source(dovecot, mailbox_login), mailbox_login, cursors, sink)
    assert (first.read, first.stored) == (6, 3)
    assert first.skipped == {"internal_only": 1, "bounce": 1, "never_log": 1, "no_lead": 1}
    assert (second.read, second.stored) == (0, 0)
    kinds = sorted((m.activity.lead_id, m.activity.direction.value) for m in sink.stored.values())
    assert kinds == [("00Q1", "inbound"), ("00Q1", "outbound"), ("00Q2", "outbound")]
    assert {m.activity.owner_id for m in sink.stored.values()} == {"005ANA"}


def test_snippet_is_fetched_for_matches_only(dovecot: servers.Dovecot, mailbox_login: str) -> None:
    """Matched mail carries a folded snippet of its plain text; logs carry no address, subject or body."""
    long_body = SECRET_BODY + "\n\n" + "more words " * 300
    html = "<p>" + SECRET_BODY + "</p>"
    append(dovecot, mailbox_login, "INBOX", [make_message(sender=BOB, to=[mailbox_login], body=long_body, html=html)])
    sink = InMemorySink()
    with structlog.testing.capture_logs() as logs:
        run(source(dovecot, mailbox_login), mailbox_login, InMemoryCursorStore(), sink)
    (match,) = sink.stored.values()
    assert match.log.body is not None
    assert match.log.body.startswith("sentinel-capture-body-71c3 please find the pricing attached more words")
    assert len(match.log.body) <= 300
    text = repr(logs)
    assert BOB not in text
    assert mailbox_login not in text
    assert "sentinel-capture-body" not in text


def test_capture_does_not_mark_messages_seen(dovecot: servers.Dovecot, mailbox_login: str) -> None:
    """After capture, no message in INBOX or Sent has the \\Seen flag."""
    seed_thread(dovecot, mailbox_login)
    run(source(dovecot, mailbox_login), mailbox_login, InMemoryCursorStore(), InMemorySink())
    with IMAPClient("127.0.0.1", port=dovecot.port, ssl=False) as client:
        client.login(mailbox_login, servers.PASSWORD)
        for folder in ("INBOX", "Sent"):
            client.select_folder(folder, readonly=True)
            flags = client.get_flags(client.search("ALL"))
            assert len(flags) > 0
            assert all(b"\\Seen" not in f for f in flags.values()), folder


def test_uidvalidity_change_rescans_without_duplicates(dovecot: servers.Dovecot, mailbox_login: str) -> None:
    """A recreated folder (new UIDVALIDITY) is read again from the start; only the new message is stored."""
    old = [make_message(sender=BOB, to=[mailbox_login], message_id=f"<deal-{i}@customer.example>") for i in range(3)]
    append(dovecot, mailbox_login, "Deals", old)
    src = source(dovecot, mailbox_login, folders=["Deals"])
    cursors, sink = InMemoryCursorStore(), InMemorySink()
    run(src, mailbox_login, cursors, sink)
    before = cursors.get_cursor("acme-sf", src.name, "Deals")
    with IMAPClient("127.0.0.1", port=dovecot.port, ssl=False) as client:
        client.login(mailbox_login, servers.PASSWORD)
        client.delete_folder("Deals")
    newer = make_message(sender=CAROL, to=[mailbox_login], message_id="<deal-new@customer.example>")
    append(dovecot, mailbox_login, "Deals", [*old, newer])
    stats = run(src, mailbox_login, cursors, sink)
    after = cursors.get_cursor("acme-sf", src.name, "Deals")
    assert before is not None
    assert after is not None
    assert after.uidvalidity != before.uidvalidity
    assert (stats.rescans, stats.read, stats.stored) == (1, 4, 1)
    assert len(sink.stored) == 4


class CrashingCursors(InMemoryCursorStore):
    """A cursor store whose process 'dies' on the n-th save (after the matches were stored)."""

    def __init__(self, crash_on: int) -> None:
        super().__init__()
        self.saves = 0
        self.crash_on = crash_on

    def set_cursor(self, connection: str, source: str, folder: str, cursor: Cursor) -> None:
        self.saves += 1
        if self.saves == self.crash_on:
            raise KeyboardInterrupt("simulated kill")
        super().set_cursor(connection, source, folder, cursor)


class CountingSink(InMemorySink):
    """Records every match offered, to prove repeats are offered but not stored twice."""

    def __init__(self) -> None:
        super().__init__()
        self.offered: list[CaptureMatch] = []

    def add(self, matches: Sequence[CaptureMatch]) -> int:
        self.offered.extend(matches)
        return super().add(matches)


def test_kill_between_store_and_cursor_then_resume(dovecot: servers.Dovecot, mailbox_login: str) -> None:
    """Killed between storing a chunk and saving its cursor, the next pass misses nothing and stores nothing twice."""
    messages = [make_message(sender=BOB, to=[mailbox_login], message_id=f"<k{i}@customer.example>") for i in range(5)]
    append(dovecot, mailbox_login, "INBOX", messages)
    src = source(dovecot, mailbox_login, folders=["INBOX"], chunk_size=2)
    cursors, sink = CrashingCursors(crash_on=2), CountingSink()
    with pytest.raises(KeyboardInterrupt):
        run(src, mailbox_login, cursors, sink)
    assert len(sink.stored) == 4
    resumed = run(src, mailbox_login, cursors, sink)
    assert len(sink.stored) == 5
    assert resumed.stored == 1
    assert len(sink.offered) == 7  # chunk two offered twice, stored once


@pytest.mark.parametrize("tls", ["ssl", "starttls"])
def test_tls_modes(dovecot: servers.Dovecot, mailbox_login: str, tls: str) -> None:
    """IMAPS and STARTTLS both connect with the test CA, and capture works over them."""
    append(dovecot, mailbox_login, "INBOX", [make_message(sender=BOB, to=[mailbox_login])])
    port = dovecot.tls_port if tls == "ssl" else dovecot.port
    src = source(dovecot, mailbox_login, tls=tls, port=port, ca_file=dovecot.ca_file, folders=["INBOX"])
    sink = InMemorySink()
    stats = run(src, mailbox_login, InMemoryCursorStore(), sink)
    assert stats.stored == 1


def test_untrusted_certificate_is_fatal(dovecot: servers.Dovecot, mailbox_login: str) -> None:
    """A server certificate the configured CA does not vouch for stops the source (an operator must act)."""
    src = source(dovecot, mailbox_login, tls="ssl", port=dovecot.tls_port, ca_file=None)
    with pytest.raises(FatalError, match="certificate"), ImapReader(src):
        pass


def test_wrong_password_is_auth_error(dovecot: servers.Dovecot, mailbox_login: str) -> None:
    """A refused login raises AuthError, and the password is not in the message."""
    src = source(dovecot, mailbox_login, password=SecretRef(value="wrong-password-zz"))
    with pytest.raises(AuthError) as info, ImapReader(src):
        pass
    assert "wrong-password-zz" not in str(info.value)


def test_sent_folder_resolved_by_special_use(dovecot: servers.Dovecot, mailbox_login: str) -> None:
    """The default folders resolve to INBOX and the folder flagged \\Sent, which is read as sent mail."""
    with ImapReader(source(dovecot, mailbox_login)) as reader:
        assert reader.resolve_folders() == [Folder("INBOX"), Folder("Sent", sent=True)]


def test_missing_folder_is_config_error(dovecot: servers.Dovecot, mailbox_login: str) -> None:
    """A configured folder the server does not have is a configuration error naming the folder."""
    with (
        ImapReader(source(dovecot, mailbox_login, folders=["Nope"])) as reader,
        pytest.raises(ConfigError, match="Nope"),
    ):
        reader.resolve_folders()


def test_idle_reports_new_mail(dovecot: servers.Dovecot, mailbox_login: str) -> None:
    """wait_for_changes returns True when mail arrives during IDLE and False when the timeout passes quietly."""
    append(dovecot, mailbox_login, "INBOX", [make_message(sender=BOB, to=[mailbox_login])])
    with ImapReader(source(dovecot, mailbox_login)) as reader:
        assert reader.wait_for_changes(0.3) is False
        later = threading.Timer(
            0.3, append, (dovecot, mailbox_login, "INBOX", [make_message(sender=CAROL, to=[mailbox_login])])
        )
        later.start()
        try:
            assert reader.wait_for_changes(10) is True
        finally:
            later.join()


def test_ssl_context_verifies_hostnames() -> None:
    """The client TLS context verifies certificates and hostnames."""
    from crmsync.capture.imap import ssl_context

    context = ssl_context(None)
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname is True


def test_xoauth2_login_against_dovecot(dovecot: servers.Dovecot, mailbox_login: str) -> None:
    """XOAUTH2 logs in with a good token (Dovecot checks it against its passdb) and a bad one is AuthError."""
    good = source(dovecot, mailbox_login, auth="xoauth2", password=None, oauth2_token=SecretRef(value=servers.PASSWORD))
    with ImapReader(good) as reader:
        assert reader.resolve_folders()[0] == Folder("INBOX")
    bad = source(
        dovecot,
        mailbox_login,
        auth="xoauth2",
        password=None,
        oauth2_token=SecretRef(value=sentinel("ya29.expired-token-x1")),
    )
    with pytest.raises(AuthError), ImapReader(bad):
        pass
    assert "method=XOAUTH2" in (dovecot.root / "dovecot.log").read_text()


def test_cursors_in_the_database_survive_a_restart(
    dovecot: servers.Dovecot, mailbox_login: str, sqlite_url: str, clock: FakeClock
) -> None:
    """With the store's cursor port, a new process (new reader, new store object) reads only new mail."""
    upgrade(sqlite_url)
    db = Database(sqlite_url)
    try:
        append(dovecot, mailbox_login, "INBOX", [make_message(sender=BOB, to=[mailbox_login])])
        src, sink = source(dovecot, mailbox_login), InMemorySink()
        first = run(src, mailbox_login, DatabaseCursorStore(db, clock), sink)
        append(dovecot, mailbox_login, "INBOX", [make_message(sender=CAROL, to=[mailbox_login])])
        second = run(src, mailbox_login, DatabaseCursorStore(db, clock), sink)
    finally:
        db.dispose()
    assert (first.read, second.read, len(sink.stored)) == (1, 1, 2)
