"""API calls of a steady-state cycle ÷ the minimum the APIs allow, per vendor, on orgs of 10,000 and 100,000 leads.

A cycle, through the real HTTP adapters against the sandbox servers: pull the leads changed since the last
watermark (1 % of the org, changed by reps), the owners, the activities (a logged call on half the changed
leads), read the current owners of the 200 leads about to move, and write those 200 owner changes.

The minimum counts, for each request the cycle needs, the fewest calls the API allows: query pages of 2,000
rows (Salesforce) or search pages of 200 (HubSpot), at least one per stream read; write batches of 200 / 100;
HubSpot owner reads of 100; associations read 100 ids a call; owners listed 100 a page (active, then archived);
archived contacts listed 100 a page. Authentication is not counted (once per process, not per cycle).

Last line: ``{"salesforce_ratio_10k", "salesforce_ratio_100k", "hubspot_ratio_10k", "hubspot_ratio_100k", "calls"}``.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from crmsync.clock import FakeClock
from crmsync.crm.config import load_connection
from crmsync.crm.factory import connect
from crmsync.crm.ports import CrmPort, Watermark
from crmsync.domain import Assign, LeadRef, Vendor
from crmsync.sandbox.hubspot import HubSpotSandbox
from crmsync.sandbox.org import HUBSPOT_RULES, SALESFORCE_RULES, Org
from crmsync.sandbox.salesforce import SalesforceSandbox
from crmsync.sandbox.schema import HS_ASSOCIATION_TYPES, hubspot_schemas, salesforce_schemas
from crmsync.sandbox.stats import Stats

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HS_TOKEN = "pat-na1-bench-api-calls"  # noqa: S105 - the sandbox's fake token
WRITES = 200


@dataclass
class Portal:
    """A seeded org served over HTTP, and a connected adapter."""

    vendor: Vendor
    org: Org
    clock: FakeClock
    crm: CrmPort
    stats: Stats
    users: list[str]
    leads: list[str]
    stop: Callable[[], None]


def seed(
    vendor: Vendor, leads: int, clock: FakeClock, touches_per_lead: float = 0.0
) -> tuple[Org, list[str], list[str]]:
    """An org with 8 reps, a holding queue and ``leads`` leads owned round-robin; optional logged calls."""
    if vendor is Vendor.SALESFORCE:
        org = Org(SALESFORCE_RULES, salesforce_schemas(), clock)
        users = [str(org.create("User", {"Username": f"r{i}@acme.test", "Email": f"r{i}@acme.test", "LastName": f"R{i}",
                                         "Name": f"Rep {i}", "IsActive": True})["Id"]) for i in range(8)]  # fmt: skip
        org.create("Group", {"Name": "Holding", "DeveloperName": "Holding", "Type": "Queue"})
        ids = [str(org.create("Lead", {"LastName": f"L{i}", "Company": f"Co {i}", "Status": "Open - Not Contacted",
                                       "Email": f"l{i}@prospect.example", "OwnerId": users[i % 8],
                                       "NumberOfEmployees": 10 + i % 5000, "Title": "CTO"})["Id"])
               for i in range(leads)]  # fmt: skip
    else:
        org = Org(HUBSPOT_RULES, hubspot_schemas(), clock)
        users = [str(org.create("owners", {"email": f"r{i}@acme.test", "firstName": f"R{i}", "type": "PERSON"})
                     ["hs_object_id"]) for i in range(8)]  # fmt: skip
        org.create("owners", {"firstName": "Holding", "type": "QUEUE"})
        ids = [str(org.create("contacts", {"email": f"l{i}@prospect.example", "hubspot_owner_id": users[i % 8],
                                           "company": f"Co {i}", "jobtitle": "CTO"})["hs_object_id"])
               for i in range(leads)]  # fmt: skip
    for i in range(int(leads * touches_per_lead)):
        log_call(org, vendor, ids[i % leads], users[0], clock.now())
    return org, users, ids


def log_call(org: Org, vendor: Vendor, lead: str, rep: str, at: datetime) -> None:
    """A rep logs an outbound call on ``lead`` in the CRM."""
    if vendor is Vendor.SALESFORCE:
        org.create("Task", {"WhoId": lead, "OwnerId": rep, "Subject": "Call", "Status": "Completed",
                            "Priority": "Normal", "TaskSubtype": "Call", "CallType": "Outbound"}, now=at)  # fmt: skip
        return
    call = org.create("calls", {"hs_timestamp": at, "hs_call_direction": "OUTBOUND", "hubspot_owner_id": rep}, now=at)
    org.associate("calls", str(call["hs_object_id"]), "contacts", lead, HS_ASSOCIATION_TYPES[("calls", "contacts")],
                  HS_ASSOCIATION_TYPES[("contacts", "calls")])  # fmt: skip


def serve(vendor: Vendor, org: Org, clock: FakeClock, workdir: Path, users: list[str], ids: list[str]) -> Portal:
    """Start the vendor's sandbox server over ``org`` and connect the HTTP adapter to it."""
    stats = Stats()
    if vendor is Vendor.SALESFORCE:
        server = SalesforceSandbox(org, clock=clock, tls_dir=workdir / "certs", stats=stats, daily_quota=10**9)
        server.start()
        settings = load_connection({
            "name": "bench", "vendor": "salesforce",
            "salesforce": {"auth": "client_credentials", "login_url": server.url, "client_id": server.auth.consumer_key,
                           "client_secret": server.auth.consumer_secret, "ca_file": str(server.ca_path),
                           "trust_env": False},
        })  # fmt: skip
        return Portal(vendor, org, clock, connect(settings, clock=clock), stats, users, ids, server.stop)
    hs = HubSpotSandbox(org, clock=clock, token=HS_TOKEN, stats=stats)
    url = hs.start()
    settings = load_connection({"name": "bench", "vendor": "hubspot", "hubspot": {"host": url, "token": HS_TOKEN}})
    return Portal(vendor, org, clock, connect(settings, clock=clock), stats, users, ids, hs.stop)


def minimum(vendor: Vendor, changed: int, touched: int, owners: int) -> int:
    """The fewest calls the APIs allow for this cycle (see the module docstring)."""
    pages = lambda n, size: max(1, math.ceil(n / size))  # noqa: E731 - a local shorthand
    if vendor is Vendor.SALESFORCE:
        reads = pages(changed, 2000) + 2 + pages(touched, 2000) + 1  # leads, users + queues, tasks + events
        return reads + 1 + pages(WRITES, 200)  # one owners query holds 200 ids in its URL; collections of 200
    searches = pages(changed, 200) + 1  # + archived contacts
    owner_pages = pages(owners, 100) + 1  # active, archived
    activities = pages(touched, 200) + 2 + math.ceil(touched / 100)  # calls, emails, meetings + associations
    return searches + owner_pages + activities + pages(WRITES, 100) + pages(WRITES, 100)


def cycle(portal: Portal, changed: int, touched: int) -> dict[str, Any]:
    """One steady-state cycle after reps changed ``changed`` leads and logged ``touched`` calls."""
    clock, org = portal.clock, portal.org
    clock.advance(timedelta(minutes=1))
    mark = Watermark(clock.now())  # the last cycle read everything up to here
    clock.advance(timedelta(hours=1))
    field = "Title" if portal.vendor is Vendor.SALESFORCE else "jobtitle"
    obj = "Lead" if portal.vendor is Vendor.SALESFORCE else "contacts"
    step = max(1, len(portal.leads) // max(changed, WRITES))
    chosen = portal.leads[::step][:changed]
    for lead in chosen:
        org.update(obj, lead, {field: "VP Sales"})
    for lead in chosen[:touched]:
        log_call(org, portal.vendor, lead, portal.users[0], clock.now())
    clock.advance(timedelta(minutes=10))
    until = clock.now() - timedelta(minutes=5)
    portal.stats.reset()
    leads = sum(len(p.records) for p in portal.crm.pull_leads(mark, until))
    owners = sum(len(p.records) for p in portal.crm.pull_owners())
    acts = sum(len(p.records) for p in portal.crm.pull_activities(mark, until))
    moving = portal.leads[1::step][:WRITES] if len(chosen) < WRITES else chosen[:WRITES]
    portal.crm.current_owners(moving)
    actions = [
        Assign(LeadRef("bench", lead), portal.users[1], None, "bench", "bench", "Assigned", None) for lead in moving
    ]
    done = sum(o.status.value == "done" for o in portal.crm.apply(actions))
    by_endpoint = portal.stats.snapshot()["by_endpoint"]
    used = sum(n for name, n in by_endpoint.items() if "oauth" not in name)
    low = minimum(portal.vendor, changed, touched, owners)
    return {"calls": used, "minimum": low, "ratio": round(used / low, 3), "leads_pulled": leads, "owners": owners,
            "activities": acts, "writes_done": done, "by_endpoint": by_endpoint}  # fmt: skip


def measure(vendor: Vendor, size: int, workdir: Path) -> dict[str, Any]:
    """Seed, serve and run one cycle on an org of ``size`` leads."""
    clock = FakeClock(START)
    org, users, ids = seed(vendor, size, clock)
    portal = serve(vendor, org, clock, workdir / f"{vendor}-{size}", users, ids)
    try:
        return cycle(portal, changed=size // 100, touched=size // 200)
    finally:
        portal.stop()


def main() -> None:
    """Run the four measurements and print the figures; the last line is the JSON summary."""
    out: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for vendor in (Vendor.SALESFORCE, Vendor.HUBSPOT):
            for size, label in ((10_000, "10k"), (100_000, "100k")):
                result = measure(vendor, size, Path(tmp))
                out[f"{vendor.value}_ratio_{label}"] = result["ratio"]
                raw[f"{vendor.value}_{label}"] = {k: v for k, v in result.items() if k != "ratio"}
                print(f"{vendor.value} {label}: {result['calls']} calls / minimum {result['minimum']} = "
                      f"{result['ratio']} ({result['leads_pulled']} leads, {result['activities']} activities, "
                      f"{result['writes_done']} writes)", file=sys.stderr)  # fmt: skip
    print(json.dumps({**out, "calls": raw}, sort_keys=True))


if __name__ == "__main__":
    main()
