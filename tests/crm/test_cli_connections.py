"""``crmsync doctor`` and ``crmsync setup`` against the sandbox: problems found, fixes printed, exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmsync.cli import app
from crmsync.clock import FakeClock
from crmsync.domain import Vendor
from crmsync.errors import ConfigError
from crmsync.sandbox.hubspot import HubSpotSandbox
from crmsync.sandbox.org import HUBSPOT_RULES, Org
from crmsync.sandbox.schema import hubspot_schemas
from tests.crm.conftest import HS_TOKEN, Env, EnvFactory
from tests.logguard import sentinel


@pytest.fixture
def bare_portal(clock: FakeClock) -> Iterator[HubSpotSandbox]:
    """A HubSpot portal without crmsync's custom properties, and with one QUEUE owner."""
    org = Org(HUBSPOT_RULES, hubspot_schemas(custom_properties=False), clock)
    org.create("owners", {"email": None, "firstName": "Nurture", "type": "QUEUE"})
    portal = HubSpotSandbox(org, clock=clock, token=sentinel(HS_TOKEN))
    portal.start()
    yield portal
    portal.stop()


def no_policy(tmp_path: Path) -> dict[str, str]:
    """Point the settings' policy file nowhere, so the CLI runs on vendor defaults."""
    return {"CRMSYNC_POLICY_FILE": str(tmp_path / "absent-policy.yaml")}


def write_connections(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "connections.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def sf_yaml(env: Env, tmp_path: Path) -> str:
    crm = env.crm
    settings = crm._settings.salesforce  # type: ignore[attr-defined]
    secret = tmp_path / "sf-secret"
    secret.write_text(settings.client_secret.get_secret_value(), encoding="utf-8")
    return (
        f"- name: acme-sf\n  vendor: salesforce\n  holding_owner: 'queue:Holding'\n  salesforce:\n"
        f"    auth: client_credentials\n    login_url: {settings.login_url}\n    client_id: {settings.client_id}\n"
        f"    client_secret_file: {secret}\n    ca_file: {settings.ca_file}\n    trust_env: false\n"
    )


def test_doctor_reports_ok_for_a_complete_salesforce_org(make_env: EnvFactory, tmp_path: Path) -> None:
    """A Salesforce org with every field and the holding queue passes every check and exits 0."""
    env = make_env(Vendor.SALESFORCE)
    path = write_connections(tmp_path, sf_yaml(env, tmp_path))
    result = CliRunner().invoke(app, ["doctor", "--connections", str(path)], env=no_policy(tmp_path))
    assert result.exit_code == 0, result.output
    assert "ok   holding owner: queue:Holding exists" in result.output
    assert "FAIL" not in result.output


def test_doctor_names_the_missing_properties_then_setup_creates_them(
    bare_portal: HubSpotSandbox, tmp_path: Path
) -> None:
    """A bare portal fails with the missing properties and the fix; after `setup` the doctor passes."""
    body = (
        f"connections:\n  - name: acme-hs\n    vendor: hubspot\n    holding_owner: 'queue:Nurture'\n"
        f"    hubspot: {{host: '{bare_portal.url}', token_env: CRMSYNC_TEST_HS_TOKEN}}\n"
    )
    path = write_connections(tmp_path, body)
    env = {"CRMSYNC_TEST_HS_TOKEN": HS_TOKEN, **no_policy(tmp_path)}
    runner = CliRunner()
    first = runner.invoke(app, ["doctor", "--connections", str(path)], env=env)
    assert first.exit_code == 1, first.output
    assert "FAIL fields contacts: missing: crmsync_reassignments, crmsync_sla_due, crmsync_status" in first.output
    assert "run `crmsync setup`" in first.output
    made = runner.invoke(app, ["setup", "--connections", str(path)], env=env)
    assert made.exit_code == 0, made.output
    assert "emails.crmsync_external_id" in made.output
    second = runner.invoke(app, ["doctor", "--connections", str(path)], env=env)
    assert second.exit_code == 0, second.output


def test_setup_prints_salesforce_field_metadata(make_env: EnvFactory, tmp_path: Path) -> None:
    """For Salesforce, setup prints deployable CustomField metadata, the external id field included."""
    env = make_env(Vendor.SALESFORCE)
    path = write_connections(tmp_path, sf_yaml(env, tmp_path))
    result = CliRunner().invoke(app, ["setup", "--connections", str(path)], env=no_policy(tmp_path))
    assert result.exit_code == 0, result.output
    assert "<fullName>Crmsync_External_Id__c</fullName>" in result.output
    assert "<externalId>true</externalId>" in result.output


def test_bad_connection_file_is_a_config_error_listing_every_problem(tmp_path: Path) -> None:
    """Two broken connections raise one ConfigError (exit 2 in the CLI) with a located line per problem."""
    path = write_connections(tmp_path, "- {name: a, vendor: salesforce}\n- {name: b, vendor: hubspot, hubspot: {}}\n")
    result = CliRunner().invoke(app, ["doctor", "--connections", str(path)], env=no_policy(tmp_path))
    assert isinstance(result.exception, ConfigError)
    assert len(result.exception.problems) == 2
    assert result.exception.problems[0].startswith(f"{path}: connections[0]")
    assert "give a private-app token" in result.exception.problems[1]


def test_doctor_flags_a_field_the_integration_user_cannot_edit(make_env: EnvFactory, tmp_path: Path) -> None:
    """A Lead field crmsync writes but may not update is a permission problem with its fix."""
    import dataclasses

    env = make_env(Vendor.SALESFORCE)
    fields = env.org.schema("Lead").fields
    fields["Crmsync_Status__c"] = dataclasses.replace(fields["Crmsync_Status__c"], updateable=False)
    path = write_connections(tmp_path, sf_yaml(env, tmp_path))
    result = CliRunner().invoke(app, ["doctor", "--connections", str(path)], env=no_policy(tmp_path))
    assert result.exit_code == 1, result.output
    assert "FAIL permissions Lead: not updateable: Crmsync_Status__c" in result.output
    assert "Edit field-level security" in result.output
