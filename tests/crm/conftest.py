"""A sandbox CRM per vendor, seeded small, with the adapter under test connected to it.

:class:`Env` hides the vendor: the contract tests seed, change and inspect the org through it and talk to
the CRM only through the :class:`~crmsync.crm.ports.CrmPort` they are given (HTTP adapters, or the
in-process port over the same org).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crmsync.clock import FakeClock
from crmsync.crm.config import load_connection
from crmsync.crm.factory import connect
from crmsync.crm.ledger import InMemoryLedger
from crmsync.crm.ports import CrmPort
from crmsync.domain import Vendor
from crmsync.sandbox.faults import FaultPlan, FaultRule
from crmsync.sandbox.hubspot import HubSpotSandbox
from crmsync.sandbox.org import HUBSPOT_RULES, SALESFORCE_RULES, Org
from crmsync.sandbox.salesforce import SalesforceSandbox
from crmsync.sandbox.schema import HS_ASSOCIATION_TYPES, hubspot_schemas, salesforce_schemas
from crmsync.sandbox.sf_write import AssignmentRule
from crmsync.sandbox.stats import Stats
from tests.logguard import sentinel

HS_TOKEN = "pat-na1-crmsync-contract-test"


@dataclass
class Env:
    """One seeded sandbox CRM and the knobs the contract tests turn."""

    vendor: Vendor
    org: Org
    clock: FakeClock
    crm: CrmPort
    stats: Stats
    plan: FaultPlan
    ledger: InMemoryLedger
    users: list[str]
    queue: str
    leads: list[str]
    inactive_user: str
    slept: list[float] = field(default_factory=list)
    rule: AssignmentRule | None = None

    @property
    def lead_obj(self) -> str:
        return "Lead" if self.vendor is Vendor.SALESFORCE else "contacts"

    @property
    def owner_field(self) -> str:
        return "OwnerId" if self.vendor is Vendor.SALESFORCE else "hubspot_owner_id"

    def owner_of(self, lead_id: str) -> str | None:
        value = self.org.value(self.lead_obj, lead_id, self.owner_field)
        return None if value is None else str(value)

    def touch(self, lead_id: str, at: datetime | None = None) -> None:
        """A user edit of the lead (its modified stamps move to ``at`` or now)."""
        field_name = "Title" if self.vendor is Vendor.SALESFORCE else "jobtitle"
        self.org.update(self.lead_obj, lead_id, {field_name: "VP Sales"}, now=at)

    def delete(self, lead_id: str) -> None:
        self.org.delete(self.lead_obj, lead_id)

    def add_lead(self, n: int, at: datetime) -> str:
        if self.vendor is Vendor.SALESFORCE:
            values: dict[str, Any] = {"LastName": f"Extra{n}", "Company": "Co", "Status": "Open - Not Contacted",
                                      "Email": f"extra{n}@prospect.example", "OwnerId": self.users[0]}  # fmt: skip
            return str(self.org.create("Lead", values, now=at)["Id"])
        values = {"email": f"extra{n}@prospect.example", "hubspot_owner_id": self.users[0]}
        return str(self.org.create("contacts", values, now=at)["hs_object_id"])

    def add_touch(self, lead_id: str, at: datetime) -> str:
        """An outbound call logged in the CRM by the lead's first rep."""
        if self.vendor is Vendor.SALESFORCE:
            values = {"WhoId": lead_id, "OwnerId": self.users[0], "Subject": "Call", "Status": "Completed",
                      "Priority": "Normal", "TaskSubtype": "Call", "CallType": "Outbound"}  # fmt: skip
            return str(self.org.create("Task", values, now=at)["Id"])
        values = {"hs_timestamp": at, "hs_call_direction": "OUTBOUND", "hubspot_owner_id": self.users[0],
                  "hs_call_title": "Call"}  # fmt: skip
        call = self.org.create("calls", values, now=at)
        cid = str(call["hs_object_id"])
        self.org.associate("calls", cid, "contacts", lead_id, HS_ASSOCIATION_TYPES[("calls", "contacts")],
                           HS_ASSOCIATION_TYPES[("contacts", "calls")])  # fmt: skip
        return cid

    def activity_count(self, key: str) -> int:
        """How many activity records carry crmsync's key ``key``."""
        objs = ("Task", "Event") if self.vendor is Vendor.SALESFORCE else ("emails", "meetings", "calls", "tasks")
        key_field = "Crmsync_External_Id__c" if self.vendor is Vendor.SALESFORCE else "crmsync_external_id"
        return sum(1 for o in objs for r in self.org.rows(o) if r.get(key_field) == key)

    def requests(self, pattern: str) -> int:
        """Requests the sandbox served on endpoints matching ``pattern`` (prefix match)."""
        return sum(n for name, n in self.stats.snapshot()["by_endpoint"].items() if name.startswith(pattern))


def seed(org: Org, vendor: Vendor, clock: FakeClock, leads: int) -> tuple[list[str], str, str, list[str]]:
    """Two active reps, one inactive, a holding queue, ``leads`` leads a minute apart ending an hour ago."""
    start = clock.now() - timedelta(hours=1, minutes=leads)
    users: list[str] = []
    if vendor is Vendor.SALESFORCE:
        for key, active in (("ana", True), ("ben", True), ("cy", False)):
            values = {"Username": f"{key}@acme.test", "Email": f"{key}@acme.test", "FirstName": key,
                      "LastName": "Rep", "Name": f"{key} Rep", "IsActive": active}  # fmt: skip
            rec = org.create("User", values, now=start)
            users.append(str(rec["Id"]))
        queue = str(org.create("Group", {"Name": "Holding", "DeveloperName": "Holding", "Type": "Queue"})["Id"])
        ids = []
        for i in range(leads):
            lead = {"LastName": f"L{i}", "Company": f"Co {i}", "Status": "Open - Not Contacted",
                    "Email": f"l{i}@prospect.example", "OwnerId": users[i % 2]}  # fmt: skip
            ids.append(str(org.create("Lead", lead, now=start + timedelta(minutes=i))["Id"]))
        return users[:2], queue, users[2], ids
    for key, kind in (("ana", "PERSON"), ("ben", "PERSON"), ("cy", "PERSON"), ("holding", "QUEUE")):
        rec = org.create("owners", {"email": f"{key}@acme.test" if kind == "PERSON" else None, "firstName": key,
                                    "type": kind}, now=start)  # fmt: skip
        users.append(str(rec["hs_object_id"]))
    org.delete("owners", users[2], now=start)
    ids = []
    for i in range(leads):
        contact = {"email": f"l{i}@prospect.example", "hubspot_owner_id": users[i % 2]}
        ids.append(str(org.create("contacts", contact, now=start + timedelta(minutes=i))["hs_object_id"]))
    return users[:2], users[3], users[2], ids


EnvFactory = Callable[..., Env]


@pytest.fixture
def make_env(tmp_path: Path, clock: FakeClock) -> Iterator[EnvFactory]:
    """Build a sandbox CRM of a vendor (``http`` adapters or ``inprocess``), with faults, quota, size."""
    stops: list[Callable[[], None]] = []

    def build(
        vendor: Vendor,
        *,
        mode: str = "http",
        rules: tuple[FaultRule, ...] = (),
        quota: int | None = None,
        leads: int = 6,
        max_attempts: int = 4,
    ) -> Env:
        plan = FaultPlan(rules=rules, seed=3, daily_quota={vendor.value: quota} if quota else {})
        stats = Stats()
        rules_sf = salesforce_schemas() if vendor is Vendor.SALESFORCE else hubspot_schemas()
        org = Org(SALESFORCE_RULES if vendor is Vendor.SALESFORCE else HUBSPOT_RULES, rules_sf, clock)
        users, queue, inactive, ids = seed(org, vendor, clock, leads)
        ledger = InMemoryLedger()
        slept: list[float] = []
        rule = None
        retry = {"max_attempts": max_attempts, "initial_s": 0.5, "jitter": 0.0}
        if mode == "inprocess":
            from crmsync.crm.sandbox import InProcessCrm

            crm: CrmPort = InProcessCrm("acme", org, clock=clock, ledger=ledger)
        elif vendor is Vendor.SALESFORCE:
            rule = AssignmentRule(list(reversed(users)))
            sf = SalesforceSandbox(org, clock=clock, tls_dir=tmp_path / "certs", faults=plan, stats=stats, rule=rule)
            sf.start()
            stops.append(sf.stop)
            settings = load_connection({
                "name": "acme", "vendor": "salesforce", "retry": retry,
                "salesforce": {"auth": "client_credentials", "login_url": sf.url, "client_id": sf.auth.consumer_key,
                               "client_secret": sentinel(sf.auth.consumer_secret), "ca_file": str(sf.ca_path),
                               "trust_env": False},
            })  # fmt: skip
            crm = connect(settings, clock=clock, sleep=_recorder(slept, clock))
        else:
            hs = HubSpotSandbox(org, clock=clock, token=sentinel(HS_TOKEN), stats=stats, faults=plan)
            url = hs.start()
            stops.append(hs.stop)
            settings = load_connection({"name": "acme", "vendor": "hubspot", "retry": retry,
                                        "hubspot": {"host": url, "token": HS_TOKEN}})  # fmt: skip
            crm = connect(settings, clock=clock, ledger=ledger, sleep=_recorder(slept, clock))
        return Env(vendor, org, clock, crm, stats, plan, ledger, users, queue, ids, inactive, slept, rule)

    yield build
    for stop in stops:
        stop()


def _recorder(slept: list[float], clock: FakeClock) -> Callable[[float], None]:
    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.sleep(seconds)

    return sleep


@pytest.fixture(
    params=[
        pytest.param((Vendor.SALESFORCE, "http"), id="salesforce"),
        pytest.param((Vendor.HUBSPOT, "http"), id="hubspot"),
        pytest.param((Vendor.SALESFORCE, "inprocess"), id="inprocess-salesforce"),
        pytest.param((Vendor.HUBSPOT, "inprocess"), id="inprocess-hubspot"),
    ]
)
def env(request: pytest.FixtureRequest, make_env: EnvFactory) -> Env:
    """The contract suite runs once per implementation of the port."""
    vendor, mode = request.param
    return make_env(vendor, mode=mode)
