"""A small, controlled sales floor per CRM, served by the sandbox over HTTP and reached by the real adapters.

:class:`Floor` hides the vendor: a test creates exactly the reps, queue, leads and touches it needs in the org,
runs cycles on a fresh SQLite store with a fake clock, and reads the org back. Three active reps (ana, ben,
cy, all in UTC) form one round-robin team; ``dee`` is a deactivated user in no team; ``Holding`` is the holding
queue; the SLA is a 2-business-hour first touch (09:00-17:00 UTC, Monday to Friday), at most two
reassignments, then recycle.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crmsync.clock import FakeClock
from crmsync.crm.config import ConnectionSettings, load_connection
from crmsync.crm.factory import connect
from crmsync.crm.ports import CrmPort
from crmsync.domain import Vendor
from crmsync.policy import Policy
from crmsync.policy.loader import parse_policy
from crmsync.sandbox.hubspot import HubSpotLimits, hubspot_server
from crmsync.sandbox.mapping import Rep, writer_for
from crmsync.sandbox.org import Org
from crmsync.sandbox.salesforce import SalesforceSandbox
from crmsync.sandbox.schema import HS_ASSOCIATION_TYPES
from crmsync.sandbox.simulation import make_org
from crmsync.store import migrate
from crmsync.store.session import Database
from crmsync.sync.cycle import Cycle
from tests.logguard import sentinel

HS_TOKEN = sentinel("pat-na1-crmsync-sync-tests")
RETRY = {"max_attempts": 2, "initial_s": 0.01, "jitter": 0.0}
REPS = ("ana", "ben", "cy")
SF_OPEN, SF_CLOSED = "Open - Not Contacted", "Closed - Not Converted"
HS_OPEN, HS_CLOSED = "OPEN", "UNQUALIFIED"
RECYCLE_REASON = "Recycled: SLA expired"
"""crmsync's own disposition when it recycles a lead (the disposition field is Text(255), as deployed)."""


def policy_text(vendor: Vendor, emails: dict[str, str], *, extra_members: tuple[str, ...] = ()) -> str:
    """The test policy for ``vendor`` (field names and statuses differ; the rules are the same)."""
    sf = vendor is Vendor.SALESFORCE
    score, closed = ("Lead_Score__c", SF_CLOSED) if sf else ("hubspotscore", HS_CLOSED)
    disposition = "Disposition_Reason__c" if sf else "disposition_reason"
    holding = "Holding" if sf else "Holding Queue"  # the sandbox names a HubSpot queue owner "<name> Queue"
    members = [emails[k] for k in REPS] + list(extra_members)
    return f"""
version: 1
calendar: {{timezone: UTC, workdays: [mon, tue, wed, thu, fri], hours: "09:00-17:00"}}
fields: {{score: {score}, disposition: {disposition}}}
qualification:
  mql_when: {{field: score, gte: 60}}
  holding_owner: "queue:{holding}"
teams:
  sdr: {{members: {json.dumps(members)}, capacity: {{leads_per_day: 50}}}}
routing:
  - {{name: all, team: sdr, method: round_robin}}
sla:
  - {{name: std, first_touch: 2h, follow_up: {{touches: 3, within: 5d, max_gap: 2d}}}}
on_breach: {{max_reassignments: 2, recycle: {{status: {closed}, reason: "{RECYCLE_REASON}"}}}}
dispositions:
  closed_statuses: [{closed}]
  reasons: [No Response, Not Interested, Bad Timing, Wrong Contact, Duplicate, Unqualified]
  min_touches_before_close: 3
  on_early_close: reopen
"""


@dataclass
class Floor:
    """One vendor's controlled org, its HTTP adapter, a fresh store and the policy; see the module docstring."""

    vendor: Vendor
    org: Org
    clock: FakeClock
    crm: CrmPort
    settings: ConnectionSettings
    raw_settings: dict[str, Any]
    db_url: str
    db: Database
    reps: dict[str, str]
    emails: dict[str, str]
    queue: str
    policy: Policy
    policy_source: str
    stops: list[Callable[[], None]] = field(default_factory=list)

    @property
    def sf(self) -> bool:
        return self.vendor is Vendor.SALESFORCE

    @property
    def lead_obj(self) -> str:
        return "Lead" if self.sf else "contacts"

    @property
    def owner_field(self) -> str:
        return "OwnerId" if self.sf else "hubspot_owner_id"

    @property
    def open_status(self) -> str:
        return SF_OPEN if self.sf else HS_OPEN

    @property
    def closed_status(self) -> str:
        return SF_CLOSED if self.sf else HS_CLOSED

    def cycle(self, holder: str = "test", policy: Callable[[], Policy] | None = None) -> Cycle:
        """A cycle over this floor (the policy provider may be replaced, e.g. by one that fails)."""
        return Cycle(self.db, self.crm, policy or (lambda: self.policy), self.clock, holder)

    def settle(self, minutes: int = 6) -> None:
        """Let the pull lag pass, so what was just written in the CRM is inside the next pull window."""
        self.clock.advance(timedelta(minutes=minutes))

    def lead(self, *, score: float | str | None, owner: str | None, status: str | None = None, **extra: Any) -> str:
        """Create a lead owned by rep key / queue id / None, with ``score``; return its id."""
        n = self.org.count(self.lead_obj, include_deleted=True) + 1
        owner_id = self.reps.get(owner, owner) if owner else None
        if self.sf:
            values: dict[str, Any] = {"LastName": f"Lead{n}", "Company": f"Co {n}", "Status": status or SF_OPEN,
                                      "Email": f"l{n}@prospect.example", "Lead_Score__c": score,
                                      "OwnerId": owner_id}  # fmt: skip
            values.update(extra)
            return str(self.org.create("Lead", values)["Id"])
        values = {"email": f"l{n}@prospect.example", "hubspotscore": score, "hs_lead_status": status or HS_OPEN,
                  "hubspot_owner_id": owner_id, "lifecyclestage": "lead"}  # fmt: skip
        values.update(extra)
        return str(self.org.create("contacts", values)["hs_object_id"])

    def touch(self, lead_id: str, rep: str, at: datetime | None = None) -> str:
        """An outbound call by ``rep`` on the lead, logged in the CRM (at ``at`` or now)."""
        when = at or self.clock.now()
        owner = self.reps[rep]
        if self.sf:
            values = {"WhoId": lead_id, "OwnerId": owner, "Subject": "Call", "Status": "Completed",
                      "Priority": "Normal", "TaskSubtype": "Call", "CallType": "Outbound"}  # fmt: skip
            return str(self.org.create("Task", values, now=when)["Id"])
        call = self.org.create("calls", {"hs_timestamp": when, "hs_call_direction": "OUTBOUND",
                                         "hubspot_owner_id": owner, "hs_call_title": "Call"}, now=when)  # fmt: skip
        cid = str(call["hs_object_id"])
        self.org.associate("calls", cid, "contacts", lead_id, HS_ASSOCIATION_TYPES[("calls", "contacts")],
                           HS_ASSOCIATION_TYPES[("contacts", "calls")])  # fmt: skip
        return cid

    def close(self, lead_id: str, reason: str | None) -> None:
        """A rep closes the lead with the closed status and ``reason`` in the disposition field."""
        if self.sf:
            self.org.update("Lead", lead_id, {"Status": SF_CLOSED, "Disposition_Reason__c": reason})
        else:
            self.org.update("contacts", lead_id, {"hs_lead_status": HS_CLOSED, "disposition_reason": reason})

    def value(self, lead_id: str, sf_name: str, hs_name: str) -> Any:
        """A field of the lead as the CRM holds it now."""
        return self.org.value(self.lead_obj, lead_id, sf_name if self.sf else hs_name)

    def owner_of(self, lead_id: str) -> str | None:
        value = self.org.value(self.lead_obj, lead_id, self.owner_field)
        return None if value in (None, "") else str(value)

    def status_of(self, lead_id: str) -> str | None:
        return self.value(lead_id, "Status", "hs_lead_status")  # type: ignore[no-any-return]

    def tasks_for(self, lead_id: str) -> list[tuple[str, str]]:
        """(owner id, subject) of every task on the lead."""
        if self.sf:
            return [(str(t["OwnerId"]), str(t["Subject"])) for t in self.org.rows("Task")
                    if t.get("WhoId") == lead_id and t.get("TaskSubtype") == "Task"]  # fmt: skip
        found = []
        for task in self.org.rows("tasks"):
            linked = {cid for cid, _ in self.org.associations("tasks", str(task["hs_object_id"]), "contacts")}
            if lead_id in linked:
                found.append((str(task["hubspot_owner_id"]), str(task["hs_task_subject"])))
        return found

    def rep_key(self, owner_id: str | None) -> str | None:
        """The rep key (ana, ben, cy) of an owner id, ``queue`` for the holding queue."""
        if owner_id == self.queue:
            return "queue"
        return next((k for k, v in self.reps.items() if v == owner_id), owner_id)


def _start_server(
    vendor: Vendor, org: Org, clock: FakeClock, workdir: Path, stops: list[Callable[[], None]]
) -> dict[str, Any]:
    """Serve ``org`` on 127.0.0.1; return the connection's settings as the settings file would list them."""
    if vendor is Vendor.SALESFORCE:
        sf = SalesforceSandbox(org, clock=clock, tls_dir=workdir / "certs")
        url = sf.start()
        stops.append(sf.stop)
        block: dict[str, Any] = {"auth": "session", "instance_url": url, "session_id": sentinel(sf.token),
                                 "ca_file": str(sf.ca_path), "trust_env": False}  # fmt: skip
        return {"name": "floor", "vendor": "salesforce", "salesforce": block, "retry": RETRY}
    server = hubspot_server(org, clock=clock, token=HS_TOKEN, limits=HubSpotLimits(enforce=False))
    url = server.start()
    stops.append(server.stop)
    return {"name": "floor", "vendor": "hubspot", "hubspot": {"host": url, "token": HS_TOKEN}, "retry": RETRY}


FloorFactory = Callable[..., Floor]


@pytest.fixture
def make_floor(tmp_path: Path, clock: FakeClock) -> Iterator[FloorFactory]:
    """Build a :class:`Floor` of a vendor; ``reps`` chooses which rep keys exist in the CRM, ``db_url`` the store
    (default: a SQLite file of the test's own)."""
    stops: list[Callable[[], None]] = []

    def build(
        vendor: Vendor, *, reps: tuple[str, ...] = REPS, extra_members: tuple[str, ...] = (), db_url: str | None = None
    ) -> Floor:
        org = make_org(vendor, clock)
        writer = writer_for(org)
        start = clock.now() - timedelta(days=1)
        emails = {key: f"{key}@acme.test" for key in REPS}
        ids = {key: writer.add_rep(Rep(key, key.title(), "Rep", emails[key], "UTC"), start) for key in reps}
        ids["dee"] = writer.add_rep(Rep("dee", "Dee", "Gone", "dee@acme.test", "UTC", active=False), start)
        queue = writer.add_queue("Holding", start)
        raw = _start_server(vendor, org, clock, tmp_path, stops)
        settings = load_connection(raw)
        crm = connect(settings, clock=clock, sleep=clock.sleep)
        url = db_url or f"sqlite:///{tmp_path / f'{vendor.value}.db'}"
        migrate.upgrade(url)
        db = Database(url)
        stops.append(db.dispose)
        policy = parse_policy(policy_text(vendor, emails, extra_members=extra_members), "floor.yaml")
        text = policy_text(vendor, emails, extra_members=extra_members)
        return Floor(vendor, org, clock, crm, settings, raw, url, db, ids, emails, queue, policy, text, stops)

    yield build
    for stop in reversed(stops):
        stop()


@pytest.fixture(params=[Vendor.SALESFORCE, Vendor.HUBSPOT], ids=["salesforce", "hubspot"])
def floor(request: pytest.FixtureRequest, make_floor: FloorFactory) -> Floor:
    """Every end-to-end test runs on both CRMs, through the real HTTP adapters."""
    vendor: Vendor = request.param
    return make_floor(vendor)
