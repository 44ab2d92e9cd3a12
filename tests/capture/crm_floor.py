"""A sandbox CRM (Salesforce or HubSpot over HTTP, reached by the real adapters) with a store and a Runtime.

:class:`CaptureFloor` is what the end-to-end capture tests need: one rep whose mailbox is a test's own Dovecot
user, three leads at a customer domain, a fresh SQLite store already pulled from the CRM, a policy file with
a ``capture`` section, and a :class:`~crmsync.runtime.Runtime` whose port is the HTTP adapter with the store's
activity ledger (so HubSpot logging is exactly once across "restarts": a new adapter on the same store).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from crmsync.capture.settings import CaptureSettings, CaptureSource
from crmsync.clock import FakeClock
from crmsync.crm.config import ConnectionSettings, load_connection
from crmsync.crm.factory import connect
from crmsync.crm.ledger import ActivityLedger
from crmsync.domain import Vendor
from crmsync.policy.source import PolicySource
from crmsync.runtime import Runtime
from crmsync.sandbox.hubspot import HubSpotLimits, hubspot_server
from crmsync.sandbox.mapping import Rep, writer_for
from crmsync.sandbox.org import Org
from crmsync.sandbox.salesforce import SalesforceSandbox
from crmsync.sandbox.simulation import make_org
from crmsync.settings import Settings
from crmsync.store import migrate
from crmsync.store.repositories.ledger import DatabaseLedger
from crmsync.store.session import Database
from crmsync.sync.pull import pull
from tests.logguard import sentinel

CONNECTION = "floor"
HS_TOKEN = "pat-na1-crmsync-capture-tests"
LEADS = ("bob@customer.example", "carol@customer.example", "dan@customer.example")
KEY_FIELD = {Vendor.SALESFORCE: "Crmsync_External_Id__c", Vendor.HUBSPOT: "crmsync_external_id"}


def policy_text(vendor: Vendor, rep_email: str, body: str) -> str:
    """A small valid policy for ``vendor`` whose capture section uses body option ``body``."""
    sf = vendor is Vendor.SALESFORCE
    score, closed = ("Lead_Score__c", "Closed - Not Converted") if sf else ("hubspotscore", "UNQUALIFIED")
    disposition = "Disposition_Reason__c" if sf else "disposition_reason"
    holding = "Holding" if sf else "Holding Queue"
    return f"""
version: 1
calendar: {{timezone: UTC, workdays: [mon, tue, wed, thu, fri], hours: "09:00-17:00"}}
fields: {{score: {score}, disposition: {disposition}}}
qualification:
  mql_when: {{field: score, gte: 60}}
  holding_owner: "queue:{holding}"
teams:
  sdr: {{members: ["{rep_email}"], capacity: {{leads_per_day: 50}}}}
routing:
  - {{name: all, team: sdr, method: round_robin}}
sla:
  - {{name: std, first_touch: 2h, follow_up: {{touches: 3, within: 5d, max_gap: 2d}}}}
on_breach: {{max_reassignments: 2, recycle: {{status: {closed}, reason: No Response}}}}
dispositions:
  closed_statuses: [{closed}]
  reasons: [No Response, Not Interested]
  min_touches_before_close: 3
  on_early_close: reopen
capture: {{body: {body}, never_log_domains: [lawfirm.example]}}
"""


@dataclass
class CaptureFloor:
    """One vendor's org, the rep and leads in it, the store, and what builds a Runtime over them."""

    vendor: Vendor
    org: Org
    clock: FakeClock
    settings: ConnectionSettings
    raw_settings: dict[str, Any]
    db: Database
    db_url: str
    policy_file: Path
    rep_email: str
    rep_id: str
    leads: dict[str, str]
    stops: list[Callable[[], None]] = field(default_factory=list)

    @property
    def sf(self) -> bool:
        return self.vendor is Vendor.SALESFORCE

    def runtime(self, sources: Sequence[CaptureSource], *, ledger: ActivityLedger | None = None) -> Runtime:
        """A fresh Runtime (as after a restart): new adapter, same store and ledger table (or ``ledger``)."""
        settings = Settings(
            database_url=self.db_url,
            policy_file=self.policy_file,
            connections=[self.settings],
            capture=CaptureSettings(sources=tuple(sources)),
        )
        runtime = Runtime(settings, self.db, PolicySource(self.policy_file), clock=self.clock)
        ledger = ledger or DatabaseLedger(self.db, self.clock)
        fields = runtime.policy.current.fields.as_mapping()
        runtime.add_port(connect(self.settings, clock=self.clock, fields=fields, ledger=ledger, sleep=self.clock.sleep))
        return runtime

    def logged(self) -> list[dict[str, Any]]:
        """Every activity record crmsync logged (it carries crmsync's key), Tasks/Events or emails/meetings."""
        objects = ("Task", "Event") if self.sf else ("emails", "meetings")
        key = KEY_FIELD[self.vendor]
        return [dict(r, _object=o) for o in objects for r in self.org.rows(o) if r.get(key)]

    def lead_of(self, record: dict[str, Any]) -> str | None:
        """The lead a logged record is attached to (WhoId, or the contact association)."""
        if self.sf:
            return str(record["WhoId"])
        links = self.org.associations(record["_object"], str(record["hs_object_id"]), "contacts")
        return next((str(cid) for cid, _ in links), None)

    def body_of(self, record: dict[str, Any]) -> str | None:
        """The body the CRM holds for a logged record (None when absent or empty)."""
        name = (
            "Description" if self.sf else {"emails": "hs_email_text", "meetings": "hs_meeting_body"}[record["_object"]]
        )
        value = record.get(name)
        return None if value in (None, "") else str(value)


def _server(
    vendor: Vendor, org: Org, clock: FakeClock, workdir: Path, stops: list[Callable[[], None]]
) -> dict[str, Any]:
    retry = {"max_attempts": 2, "initial_s": 0.01, "jitter": 0.0}
    if vendor is Vendor.SALESFORCE:
        sf = SalesforceSandbox(org, clock=clock, tls_dir=workdir / "certs")
        url = sf.start()
        stops.append(sf.stop)
        block: dict[str, Any] = {"auth": "session", "instance_url": url, "session_id": sentinel(sf.token),
                                 "ca_file": str(sf.ca_path), "trust_env": False}  # fmt: skip
        return {"name": CONNECTION, "vendor": "salesforce", "salesforce": block, "retry": retry}
    server = hubspot_server(org, clock=clock, token=sentinel(HS_TOKEN), limits=HubSpotLimits(enforce=False))
    url = server.start()
    stops.append(server.stop)
    return {"name": CONNECTION, "vendor": "hubspot", "hubspot": {"host": url, "token": HS_TOKEN}, "retry": retry}


def _add_leads(org: Org, vendor: Vendor, owner: str, when: Any) -> dict[str, str]:
    ids: dict[str, str] = {}
    for n, email in enumerate(LEADS, start=1):
        if vendor is Vendor.SALESFORCE:
            values: dict[str, Any] = {"LastName": f"Lead{n}", "Company": "Customer", "Status": "Open - Not Contacted",
                                      "Email": email, "Lead_Score__c": 80, "OwnerId": owner}  # fmt: skip
            ids[email] = str(org.create("Lead", values, now=when)["Id"])
        else:
            values = {"email": email, "hubspotscore": 80, "hs_lead_status": "OPEN", "hubspot_owner_id": owner,
                      "lifecyclestage": "lead"}  # fmt: skip
            ids[email] = str(org.create("contacts", values, now=when)["hs_object_id"])
    return ids


FloorFactory = Callable[..., CaptureFloor]


@pytest.fixture
def make_floor(tmp_path: Path, clock: FakeClock) -> Iterator[FloorFactory]:
    """Build a :class:`CaptureFloor`: org, rep ``rep_email``, three leads, pulled into a fresh store."""
    stops: list[Callable[[], None]] = []

    def build(vendor: Vendor, rep_email: str, *, body: str = "snippet") -> CaptureFloor:
        org = make_org(vendor, clock)
        writer = writer_for(org)
        start = clock.now() - timedelta(days=1)
        rep_id = writer.add_rep(Rep("ana", "Ana", "Rep", rep_email, "UTC"), start)
        writer.add_queue("Holding", start)
        leads = _add_leads(org, vendor, rep_id, start)
        raw = _server(vendor, org, clock, tmp_path, stops)
        settings = load_connection(raw)
        url = f"sqlite:///{tmp_path / f'{vendor.value}.db'}"
        migrate.upgrade(url)
        db = Database(url)
        stops.append(db.dispose)
        policy_file = tmp_path / "policies.yaml"
        policy_file.write_text(policy_text(vendor, rep_email, body))
        floor = CaptureFloor(vendor, org, clock, settings, raw, db, url, policy_file, rep_email, rep_id, leads, stops)
        pull(db, floor.runtime(()).port(CONNECTION), clock)
        return floor

    yield build
    for stop in reversed(stops):
        stop()
