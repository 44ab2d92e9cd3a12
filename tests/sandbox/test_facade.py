"""The Sandbox facade: both servers over one simulation, shared clock, per-server stats, one fault plan."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from hubspot import Client
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceGeneralError

from crmsync.domain.model import Vendor
from crmsync.errors import ConfigError
from crmsync.sandbox import Sandbox, SimulationConfig
from crmsync.sandbox.hubspot import HubSpotLimits

CONFIG = SimulationConfig(leads=150, reps=3, seed=2, history_days=14)


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    plan = tmp_path_factory.mktemp("plan") / "faults.yaml"
    plan.write_text("seed: 1\nrules:\n  - {endpoint: sf.limits, kind: status, status: 502}\n")
    with Sandbox(simulation=CONFIG, faults=plan, hubspot_limits=HubSpotLimits(enforce=False)) as started:
        yield started


@pytest.fixture
def sf(box: Sandbox) -> Iterator[Salesforce]:
    with requests.Session() as s:
        s.verify, s.trust_env = str(box.salesforce_ca), False
        yield Salesforce(instance_url=box.salesforce_url, session_id=box.salesforce_token, session=s)


def test_connection_info_and_both_servers(box: Sandbox, sf: Salesforce) -> None:
    """connection_info names both servers, which serve the same simulated people."""
    info = box.connection_info()
    assert set(info) == {"salesforce_url", "salesforce_ca", "salesforce_token", "hubspot_url", "hubspot_token"}
    assert info["salesforce_url"].startswith("https://127.0.0.1:")
    assert info["hubspot_url"].startswith("http://127.0.0.1:")
    sf_emails = sorted(r["Email"] for r in sf.query_all("SELECT Email FROM Lead")["records"])
    hs = Client.create(access_token=box.hubspot_token, host=box.hubspot_url)
    hs_emails = sorted(c.properties["email"] for c in hs.crm.contacts.get_all())
    assert sf_emails == hs_emails
    assert len(sf_emails) == 150


def test_stats_are_per_server(box: Sandbox, sf: Salesforce) -> None:
    """Salesforce calls are counted in the Salesforce stats only."""
    before = box.stats["hubspot"].snapshot()["requests"]
    sf.query("SELECT COUNT() FROM Lead")
    assert box.stats["salesforce"].snapshot()["by_endpoint"]["sf.query"] >= 1
    assert box.stats["hubspot"].snapshot()["requests"] == before


def test_fault_plan_from_file_applies(sf: Salesforce) -> None:
    """The plan loaded from YAML answers sf.limits with 502."""
    with pytest.raises(SalesforceGeneralError) as err:
        sf.limits()
    assert err.value.status == 502


def test_advance_moves_clock_and_org(box: Sandbox, sf: Salesforce) -> None:
    """advance() moves the shared clock; the servers stamp and count new leads with it."""
    before = sf.query("SELECT COUNT() FROM Lead")["totalSize"]
    now = box.advance(timedelta(days=2))
    assert box.clock.now() == now == CONFIG.now + timedelta(days=2)
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] > before
    assert box.orgs[Vendor.SALESFORCE].count("Lead") == box.orgs[Vendor.HUBSPOT].count("contacts")


def test_bad_fault_file_is_a_config_error(tmp_path: Path) -> None:
    """A fault file with an unknown kind is refused before anything starts."""
    plan = tmp_path / "bad.yaml"
    plan.write_text("rules:\n  - {kind: gremlins}\n")
    with pytest.raises(ConfigError):
        Sandbox(simulation=CONFIG, faults=plan)


def test_salesforce_only_sandbox(tmp_path: Path) -> None:
    """A sandbox of one vendor has no HubSpot URL and removes nothing it did not create."""
    config = SimulationConfig(leads=20, reps=2, history_days=3, vendors=(Vendor.SALESFORCE,))
    with Sandbox(simulation=config, workdir=tmp_path / "w") as one:
        assert "hubspot_url" not in one.connection_info()
        with pytest.raises(LookupError):
            _ = one.hubspot_url
    assert (tmp_path / "w" / "certs" / "ca.pem").is_file()
