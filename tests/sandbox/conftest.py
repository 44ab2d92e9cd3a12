"""Fixtures for the sandbox tests: a small seeded Salesforce org served over TLS, and clients for it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce

from crmsync.clock import FakeClock
from crmsync.sandbox.faults import FaultPlan
from crmsync.sandbox.org import SALESFORCE_RULES, Org
from crmsync.sandbox.salesforce import SalesforceSandbox
from crmsync.sandbox.schema import salesforce_schemas
from crmsync.sandbox.sf_write import AssignmentRule
from tests.logguard import sentinel


class SalesforceRedirect(HTTPAdapter):
    """Sends ``*.salesforce.com`` (the hard-coded OAuth login hosts) to the sandbox; refuses other hosts."""

    def __init__(self, netloc: str) -> None:
        super().__init__()
        self.netloc = netloc

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url or "")
        host = parts.hostname or ""
        if host.endswith(".salesforce.com"):
            request.url = urlunsplit(parts._replace(netloc=self.netloc))
        elif host not in ("127.0.0.1", "localhost"):
            raise requests.ConnectionError(f"the sandbox tests never leave 127.0.0.1 (asked for {host})")
        return super().send(request, *args, **kwargs)


def seed_org(org: Org, clock: FakeClock) -> dict[str, str]:
    """Two reps, an inactive user, a holding queue and five leads created a minute apart; returns their ids."""
    ids: dict[str, str] = {}
    for key, first, active in (("rep1", "Ana", True), ("rep2", "Ben", True), ("gone", "Cy", False)):
        user = org.create(
            "User",
            {"Username": f"{key}@acme.example", "Email": f"{key}@acme.example", "FirstName": first,
             "LastName": "Rep", "Name": f"{first} Rep", "IsActive": active, "TimeZoneSidKey": "America/New_York"},
        )  # fmt: skip
        ids[key] = user["Id"]
    ids["queue"] = org.create("Group", {"Name": "Holding", "DeveloperName": "Holding", "Type": "Queue"})["Id"]
    start = clock.now() - timedelta(hours=1)
    for i in range(5):
        lead = org.create(
            "Lead",
            {"FirstName": f"Lee{i}", "LastName": "Doe", "Email": f"lee{i}@prospect.example", "Company": f"Co {i}",
             "NumberOfEmployees": 10 * (i + 1), "Title": "CTO" if i % 2 else "Analyst", "LeadSource": "Web",
             "Status": "Open - Not Contacted", "OwnerId": ids["queue"] if i == 4 else ids["rep1"],
             "IsConverted": False, "Lead_Score__c": 10.0 * i},
            now=start + timedelta(minutes=i),
        )  # fmt: skip
        ids[f"lead{i}"] = lead["Id"]
    return ids


@pytest.fixture
def sf_org(clock: FakeClock) -> Org:
    """An empty Salesforce org on the shared fake clock."""
    return Org(SALESFORCE_RULES, salesforce_schemas(), clock)


@pytest.fixture
def seeded(sf_org: Org, clock: FakeClock) -> dict[str, str]:
    """Ids of the seeded records (see :func:`seed_org`)."""
    return seed_org(sf_org, clock)


@pytest.fixture
def fault_plan() -> FaultPlan:
    """No faults unless a test overrides this fixture."""
    return FaultPlan()


@pytest.fixture
def sandbox(
    sf_org: Org, seeded: dict[str, str], clock: FakeClock, tmp_path: Path, fault_plan: FaultPlan
) -> Iterator[SalesforceSandbox]:
    """The Salesforce sandbox over the seeded org, its assignment rule round-robining rep1 and rep2."""
    srv = SalesforceSandbox(
        sf_org, clock=clock, tls_dir=tmp_path / "certs", faults=fault_plan,
        rule=AssignmentRule([seeded["rep2"], seeded["rep1"]]),
    )  # fmt: skip
    sentinel(srv.token)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def session(sandbox: SalesforceSandbox) -> Iterator[requests.Session]:
    """A requests session trusting the sandbox CA (trust_env off: this machine exports REQUESTS_CA_BUNDLE)."""
    s = requests.Session()
    s.verify = str(sandbox.ca_path)
    s.trust_env = False
    s.mount("https://", SalesforceRedirect(sandbox.url.removeprefix("https://")))
    yield s
    s.close()


@pytest.fixture
def sf(sandbox: SalesforceSandbox, session: requests.Session) -> Salesforce:
    """Unmodified simple-salesforce on the static session id."""
    return Salesforce(instance_url=sandbox.url, session_id=sandbox.token, session=session, version="59.0")
