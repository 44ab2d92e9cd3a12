"""Capture throughput: messages read from a real Dovecot and matched to leads, per second (bar: >= 500/s).

Seeds 10,000 messages as Maildir files (60 % inbound replies or outbound touches with leads, the rest
internal, newsletters and unknown senders), lets Dovecot index the folders once, then times one capture
pass (``capture_mailbox``: UID SEARCH, header + BODYSTRUCTURE fetch in chunks of 500, snippet fetch for
matched mail, pure matching, an in-memory sink, cursor saves) against 5,000 leads.

The issue's bar line also names ``salesforce_calls_per_1000`` and ``hubspot_calls_per_1000``; those need
logging through the outbox and the CRM adapters, which capture does not do yet, so this script prints only
``messages_per_s`` for now and the CRM keys will be added when logging lands.

Run: ``.venv/bin/python bench/capture.py`` (needs the ``dovecot`` binary; runs as root or the current user).
"""

from __future__ import annotations

import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imapclient import IMAPClient

from crmsync.capture.cursors import InMemoryCursorStore
from crmsync.capture.imap import ImapReader
from crmsync.capture.matching import LeadIndex, MatchOptions
from crmsync.capture.model import BodyPolicy
from crmsync.capture.service import InMemorySink, Matcher, capture_mailbox
from crmsync.capture.settings import ImapSource, SecretRef
from tests.capture import servers

MESSAGES = 10_000
LEADS = 5_000
OWNER = "ana@acme.test"
NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def _message(index: int, rng: random.Random) -> tuple[str, bytes]:
    """(folder, raw message) for message ``index``."""
    kind = rng.random()
    number = rng.randrange(LEADS)
    lead = f"lead{number}@customer{number % 50}.example"
    if kind < 0.3:
        folder, sender, to = "INBOX", lead, OWNER
    elif kind < 0.6:
        folder, sender, to = "Sent", OWNER, f"{lead}, ben@acme.test"
    elif kind < 0.8:
        folder, sender, to = "INBOX", "cfo@acme.test", OWNER
    elif kind < 0.9:
        folder, sender, to = "INBOX", f"news@vendor{index % 7}.example", OWNER
    else:
        folder, sender, to = "INBOX", f"someone{index}@unknown.example", OWNER
    date = (NOW - timedelta(minutes=index)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    body = ("Hello, following up on the proposal we discussed. " * rng.randrange(1, 12)).strip()
    raw = (
        f"From: {sender}\nTo: {to}\nSubject: Proposal {index}\nDate: {date}\n"
        f"Message-ID: <bench-{index}@mail.example>\nMIME-Version: 1.0\n"
        f"Content-Type: text/plain; charset=utf-8\n\n{body}\n"
    )
    return folder, raw.encode()


def _lead_index() -> LeadIndex:
    emails = {f"lead{i}@customer{i % 50}.example": [f"00Q{i:05d}"] for i in range(LEADS)}
    return LeadIndex("bench", emails)


def main() -> None:
    """Seed, warm Dovecot's index, time one capture pass, print the figures."""
    dovecot = servers.start_dovecot()
    try:
        rng = random.Random(7)
        by_folder: dict[str, list[bytes]] = {"INBOX": [], "Sent": []}
        for index in range(MESSAGES):
            folder, raw = _message(index, rng)
            by_folder[folder].append(raw)
        for folder, raws in by_folder.items():
            servers.seed_maildir(dovecot, OWNER, folder, raws)
        with IMAPClient("127.0.0.1", port=dovecot.port, ssl=False) as warm:
            warm.login(OWNER, servers.PASSWORD)
            for folder in by_folder:
                warm.select_folder(folder, readonly=True)
        source = ImapSource(
            connection="bench",
            name="ana",
            host="127.0.0.1",
            port=dovecot.port,
            tls="none",
            username=OWNER,
            password=SecretRef(value=servers.PASSWORD),
        )
        matcher = Matcher(_lead_index(), {OWNER: "005ANA"}, MatchOptions(body=BodyPolicy.SNIPPET))
        sink = InMemorySink()
        started = time.perf_counter()
        with ImapReader(source, body=BodyPolicy.SNIPPET) as reader:
            stats = capture_mailbox(reader, matcher, InMemoryCursorStore(), sink, NOW)
        elapsed = time.perf_counter() - started
    finally:
        dovecot.stop()
    print(f"read {stats.read} messages, {stats.matched} activities ({len(sink.stored)} stored) in {elapsed:.2f} s")
    print(f"skipped: {dict(stats.skipped)}")
    print(json.dumps({"messages_per_s": round(stats.read / elapsed, 1)}))


if __name__ == "__main__":
    main()
