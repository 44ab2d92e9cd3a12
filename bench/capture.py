"""Capture: messages read, matched and queued per second from a real Dovecot; CRM calls per 1,000 logged touches.

Seeds 10,000 messages as Maildir files (60 % inbound replies or outbound touches with leads, the rest
internal, newsletters and unknown senders) and lets Dovecot index the folders once. For each vendor, a sandbox
org with 5,000 leads and the rep is pulled into a fresh SQLite store; then one capture pass is timed exactly as
the daemon runs it (``capture_mailbox`` with the store's lead directory and :class:`StoreSink`: UID SEARCH,
header + BODYSTRUCTURE fetch in chunks of 500, one lead query per chunk, snippet fetch for matched mail, pure
matching, activities + due leads + LogActivity outbox rows committed per chunk, cursor saves). Then the
connection's dispatcher logs every queued touch through the real HTTP adapter, and the sandbox counts the
requests it served during that dispatch.

Figures: ``messages_per_s`` is the slower of the two passes (bar >= 500/s); ``<vendor>_calls_per_1000`` is
requests x 1000 / touches logged (bars: Salesforce <= 5 with 200-record sObject Collections upserts, HubSpot
<= 10 with 100-input batch creates; the last, partial batch makes the exact minimum ``ceil(n/size) x 1000/n``,
printed beside it).

Run: ``.venv/bin/python bench/capture.py`` (needs the ``dovecot`` binary).
"""

from __future__ import annotations

import json
import math
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imapclient import IMAPClient

from crmsync.capture.imap import ImapReader
from crmsync.capture.job import dispatch_logged
from crmsync.capture.matching import LeadIndex, MatchOptions
from crmsync.capture.model import BodyPolicy
from crmsync.capture.service import CaptureStats, Matcher, capture_mailbox
from crmsync.capture.settings import CaptureSettings, ImapSource, SecretRef
from crmsync.capture.store_sink import StoreLeadDirectory, StoreSink, load_reps
from crmsync.clock import FakeClock
from crmsync.crm.config import load_connection
from crmsync.crm.factory import connect
from crmsync.domain import Vendor
from crmsync.logging import configure_logging
from crmsync.policy.source import PolicySource
from crmsync.runtime import Runtime
from crmsync.sandbox.hubspot import HubSpotLimits, hubspot_server
from crmsync.sandbox.mapping import Rep, writer_for
from crmsync.sandbox.salesforce import SalesforceSandbox
from crmsync.sandbox.simulation import make_org
from crmsync.sandbox.stats import Stats
from crmsync.settings import Settings
from crmsync.store import migrate
from crmsync.store.repositories.coordination import DatabaseCursorStore
from crmsync.store.repositories.ledger import DatabaseLedger
from crmsync.store.session import Database
from crmsync.sync.pull import pull
from tests.capture import servers
from tests.capture.crm_floor import policy_text

MESSAGES = 10_000
LEADS = 5_000
OWNER = "ana@acme.test"
NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
HS_TOKEN = "pat-na1-bench-capture"  # noqa: S105 - the sandbox's fake token
BATCH = {Vendor.SALESFORCE: 200, Vendor.HUBSPOT: 100}


def _message(index: int, rng: random.Random) -> tuple[str, bytes]:
    """(folder, raw message) for message ``index``."""
    kind = rng.random()
    number = rng.randrange(LEADS)
    lead = _lead_email(number)
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


def _lead_email(number: int) -> str:
    return f"lead{number}@customer{number % 50}.example"


@dataclass
class Floor:
    """One vendor's org over HTTP, with its request counter and a store already pulled from it."""

    vendor: Vendor
    runtime: Runtime
    stats: Stats


def _floor(vendor: Vendor, workdir: Path, clock: FakeClock, stops: list[Any]) -> Floor:
    """Org with the rep and LEADS leads, served over HTTP, pulled into a fresh SQLite store."""
    org = make_org(vendor, clock)
    writer = writer_for(org)
    start = clock.now() - timedelta(days=1)
    rep = writer.add_rep(Rep("ana", "Ana", "Rep", OWNER, "UTC"), start)
    writer.add_queue("Holding", start)
    for n in range(LEADS):
        if vendor is Vendor.SALESFORCE:
            org.create("Lead", {"LastName": f"L{n}", "Company": "C", "Status": "Open - Not Contacted",
                                "Email": _lead_email(n), "OwnerId": rep}, now=start)  # fmt: skip
        else:
            org.create("contacts", {"email": _lead_email(n), "hubspot_owner_id": rep}, now=start)
    stats = Stats()
    name = vendor.value
    if vendor is Vendor.SALESFORCE:
        sf = SalesforceSandbox(org, clock=clock, tls_dir=workdir / "certs", stats=stats)
        url = sf.start()
        stops.append(sf.stop)
        block: dict[str, Any] = {"auth": "session", "instance_url": url, "session_id": sf.token,
                                 "ca_file": str(sf.ca_path), "trust_env": False}  # fmt: skip
        settings = load_connection({"name": name, "vendor": "salesforce", "salesforce": block})
    else:
        server = hubspot_server(org, clock=clock, token=HS_TOKEN, stats=stats, limits=HubSpotLimits(enforce=False))
        url = server.start()
        stops.append(server.stop)
        settings = load_connection({"name": name, "vendor": "hubspot", "hubspot": {"host": url, "token": HS_TOKEN}})
    db_url = f"sqlite:///{workdir / f'{name}.db'}"
    migrate.upgrade(db_url)
    db = Database(db_url)
    stops.append(db.dispose)
    policy_file = workdir / f"{name}-policy.yaml"
    policy_file.write_text(policy_text(vendor, OWNER, "snippet"))
    app = Settings(database_url=db_url, policy_file=policy_file, connections=[settings], capture=CaptureSettings())
    runtime = Runtime(app, db, PolicySource(policy_file), clock=clock)
    ledger = DatabaseLedger(db, clock)
    runtime.add_port(connect(settings, clock=clock, ledger=ledger, sleep=clock.sleep))
    pull(db, runtime.port(name), clock)
    return Floor(vendor, runtime, stats)


def _capture(floor: Floor, port: int) -> tuple[CaptureStats, float]:
    """One timed capture pass into the floor's store (read, match, store, queue)."""
    name = floor.vendor.value
    runtime = floor.runtime
    source = ImapSource(connection=name, name="ana", host="127.0.0.1", port=port, tls="none", username=OWNER,
                        password=SecretRef(value=servers.PASSWORD))  # fmt: skip
    options = MatchOptions(body=BodyPolicy.SNIPPET)
    matcher = Matcher(LeadIndex(name, {}), load_reps(runtime.db, name), options, StoreLeadDirectory(runtime.db, name))
    sink = StoreSink(runtime.db, runtime.clock, name, body=BodyPolicy.SNIPPET)
    cursors = DatabaseCursorStore(runtime.db, runtime.clock)
    started = time.perf_counter()
    with ImapReader(source, body=BodyPolicy.SNIPPET) as reader:
        stats = capture_mailbox(reader, matcher, cursors, sink, NOW)
    return stats, time.perf_counter() - started


def _dispatch(floor: Floor, stats: CaptureStats) -> tuple[int, int]:
    """Log every queued touch; return (touches logged, requests the sandbox served meanwhile)."""
    before = floor.stats.snapshot()["requests"]
    dispatch_logged(floor.runtime, floor.vendor.value, stats)
    return stats.logged, floor.stats.snapshot()["requests"] - before


def _seed_mail(dovecot: servers.Dovecot) -> None:
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


def main() -> None:
    """Seed, then per vendor: pull, time one capture pass, dispatch and count calls; print the figures."""
    configure_logging(level="warning", fmt="console")
    figures: dict[str, float] = {}
    rates: list[float] = []
    dovecot = servers.start_dovecot()
    stops: list[Any] = []
    try:
        _seed_mail(dovecot)
        with tempfile.TemporaryDirectory(prefix="crmsync-bench-capture-") as tmp:
            for vendor in (Vendor.SALESFORCE, Vendor.HUBSPOT):
                clock = FakeClock(NOW)
                floor = _floor(vendor, Path(tmp), clock, stops)
                stats, elapsed = _capture(floor, dovecot.port)
                rates.append(stats.read / elapsed)
                touches, calls = _dispatch(floor, stats)
                per_1000 = calls * 1000 / touches if touches else math.inf
                floor_min = math.ceil(touches / BATCH[vendor]) * 1000 / touches if touches else math.inf
                print(f"{vendor.value}: read {stats.read} messages, {stats.matched} touches, {stats.stored} stored "
                      f"in {elapsed:.2f} s ({stats.read / elapsed:.0f}/s); skipped {dict(stats.skipped)}")  # fmt: skip
                print(f"{vendor.value}: logged {touches} touches ({stats.not_logged} not) with {calls} requests: "
                      f"{per_1000:.2f} per 1000 (minimum, batches of {BATCH[vendor]}: {floor_min:.2f})")  # fmt: skip
                figures[f"{vendor.value}_calls_per_1000"] = round(per_1000, 2)
                for stop in reversed(stops):
                    stop()
                stops.clear()
    finally:
        for stop in reversed(stops):
            stop()
        dovecot.stop()
    result = {"messages_per_s": round(min(rates), 1), **figures}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
