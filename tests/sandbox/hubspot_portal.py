"""A seeded sandbox HubSpot portal for the HubSpot server tests, driven by the unmodified hubspot-api-client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import requests
from hubspot import Client

from crmsync.clock import FakeClock
from crmsync.sandbox.faults import FaultPlan
from crmsync.sandbox.hubspot import HubSpotLimits, HubSpotSandbox
from crmsync.sandbox.org import HUBSPOT_RULES, Org
from crmsync.sandbox.schema import hubspot_schemas
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.stats import Stats

TOKEN = "pat-na1-sandbox-test"
NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


@dataclass
class Portal:
    """One running portal: its org, clock, server, base URL, a validating client and a raw HTTP session."""

    org: Org
    clock: FakeClock
    server: SandboxServer
    url: str
    client: Client
    http: requests.Session
    owners: dict[str, str]
    contacts: list[str]

    def raw(self, method: str, path: str, **kw: object) -> requests.Response:
        """A raw request with the portal's token (to pin wire shapes the client's models would hide)."""
        return self.http.request(method, self.url + path, timeout=10, **kw)  # type: ignore[arg-type]


def seed(org: Org, contacts: int = 12) -> tuple[dict[str, str], list[str]]:
    """Owners ann/bob (PERSON), a holding QUEUE, an archived rep; ``contacts`` contacts a minute apart."""
    owners = {}
    people = [("ann", "Ann", "Diligent", 5001, "PERSON"), ("bob", "Bob", "Picky", 5002, "PERSON"),
              ("holding", "Holding", "Queue", None, "QUEUE"), ("carl", "Carl", "Gone", 5003, "PERSON")]  # fmt: skip
    for key, first, last, user_id, kind in people:
        email = None if kind == "QUEUE" else f"{key}@org.example"
        rec = org.create("owners", {"email": email, "firstName": first, "lastName": last, "userId": user_id,
                                    "type": kind}, now=NOW - timedelta(days=30))  # fmt: skip
        owners[key] = str(rec["hs_object_id"])
    org.delete("owners", owners["carl"], now=NOW - timedelta(days=1))
    ids = []
    for n in range(contacts):
        values = {
            "email": f"lead{n}@prospect{n % 3}.example",
            "firstname": f"First{n}",
            "lastname": f"Last{n}",
            "company": "Acme Corp" if n % 4 == 0 else f"Company {n}",
            "hubspot_owner_id": owners["holding"] if n % 2 else owners["ann"],
            "hs_lead_status": "NEW" if n % 3 else "OPEN",
            "crmsync_reassignments": n % 5,
        }
        rec = org.create("contacts", values, now=NOW - timedelta(hours=2) + timedelta(minutes=n))
        ids.append(str(rec["hs_object_id"]))
    return owners, ids


PortalFactory = Callable[..., Portal]


@pytest.fixture
def make_portal() -> Iterator[PortalFactory]:
    """Build portals with a given fault plan, limits and size; every one is stopped at the end of the test."""
    started: list[Portal] = []

    def build(*, faults: FaultPlan | None = None, limits: HubSpotLimits | None = None, contacts: int = 12) -> Portal:
        clock = FakeClock(NOW)
        org = Org(HUBSPOT_RULES, hubspot_schemas(), clock)
        owners, ids = seed(org, contacts)
        sandbox = HubSpotSandbox(org, clock=clock, token=TOKEN, stats=Stats(log_size=50), faults=faults, limits=limits)
        url = sandbox.start()
        server = sandbox.server
        client = Client.create(access_token=TOKEN, host=url, client_side_validation=True)
        http = requests.Session()
        http.trust_env = False
        http.headers["Authorization"] = f"Bearer {TOKEN}"
        portal = Portal(org, clock, server, url, client, http, owners, ids)
        started.append(portal)
        return portal

    yield build
    for portal in started:
        portal.http.close()
        portal.server.stop()


@pytest.fixture
def portal(make_portal: PortalFactory) -> Portal:
    """The default portal: no faults, Professional-tier limits, 12 contacts."""
    return make_portal()
