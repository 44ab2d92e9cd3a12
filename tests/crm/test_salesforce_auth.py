"""Salesforce authentication flows: JWT bearer against the sandbox, SOAP login accepted with a deprecation
warning, refused logins as AuthError."""

from __future__ import annotations

from pathlib import Path

import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from crmsync.clock import FakeClock, SystemClock
from crmsync.crm.config import load_connection
from crmsync.crm.factory import connect
from crmsync.crm.salesforce import SalesforceCrm
from crmsync.errors import AuthError, ConfigError
from crmsync.sandbox.org import SALESFORCE_RULES, Org
from crmsync.sandbox.salesforce import SalesforceAuth, SalesforceSandbox
from crmsync.sandbox.schema import salesforce_schemas
from tests.logguard import sentinel


def _keypair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def test_jwt_bearer_login_against_the_sandbox(tmp_path: Path, clock: FakeClock) -> None:
    """A JWT signed with the connected app's key (read from a file) logs in; a wrong user is an AuthError."""
    private, public = _keypair()
    key_file = tmp_path / "sf.key"
    key_file.write_text(private, encoding="utf-8")
    auth = SalesforceAuth(jwt_public_key=public)
    server = SalesforceSandbox(Org(SALESFORCE_RULES, salesforce_schemas(), clock), clock=clock,
                               tls_dir=tmp_path / "certs", auth=auth)  # fmt: skip
    server.start()
    try:
        block = {"auth": "jwt", "login_url": server.url, "client_id": auth.consumer_key, "username": auth.username,
                 "private_key_file": str(key_file), "ca_file": str(server.ca_path), "trust_env": False}  # fmt: skip
        wall = SystemClock()  # the JWT's exp is checked against the real time
        crm = connect(load_connection({"name": "sf", "vendor": "salesforce", "salesforce": block}), clock=wall)
        assert isinstance(crm, SalesforceCrm)
        owners = [o for page in crm.pull_owners() for o in page.records]
        assert [o.email for o in owners] == [auth.username]
        wrong = {**block, "username": "someone@else.test"}
        refused = connect(load_connection({"name": "sf", "vendor": "salesforce", "salesforce": wrong}), clock=wall)
        with pytest.raises(AuthError):
            list(refused.pull_owners())
    finally:
        server.stop()


@responses.activate
def test_soap_login_works_but_warns_that_it_is_being_retired(clock: FakeClock) -> None:
    """username/password/token still logs in (SOAP), with a DeprecationWarning naming the replacement."""
    soap = (
        '<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        "<soapenv:Body><loginResponse><result><serverUrl>https://acme.my.salesforce.com/services/Soap/u/59.0"
        f"</serverUrl><sessionId>{sentinel('00DSb000000000001!soap-session-x')}</sessionId></result>"
        "</loginResponse></soapenv:Body></soapenv:Envelope>"
    )
    responses.add(responses.POST, "https://login.salesforce.com/services/Soap/u/59.0", body=soap)
    responses.add(responses.GET, "https://acme.my.salesforce.com/services/data/v59.0/query/",
                  json={"totalSize": 0, "done": True, "records": []})  # fmt: skip
    block = {"auth": "password", "username": "u@acme.test", "password": sentinel("hunter2-pass"),
             "security_token": sentinel("tok-abc-123")}  # fmt: skip
    crm = connect(load_connection({"name": "sf", "vendor": "salesforce", "salesforce": block}), clock=clock)
    with pytest.warns(DeprecationWarning, match="retires in Summer '27"):
        pages = list(crm.pull_owners())
    assert pages[0].records == []


def test_incomplete_auth_settings_are_config_errors() -> None:
    """A JWT connection without its key, or a HubSpot one without a token, is refused with the path."""
    with pytest.raises(ConfigError) as bad:
        load_connection({"name": "sf", "vendor": "salesforce", "salesforce": {"auth": "jwt", "client_id": "x"}})
    assert "auth jwt needs username, private_key" in bad.value.problems[0]
    with pytest.raises(ConfigError, match="needs a 'hubspot' section"):
        load_connection({"name": "hs", "vendor": "hubspot"})
