"""Sandbox Salesforce sessions, quota and request-level faults, driven by unmodified simple-salesforce."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
)

from crmsync.clock import FakeClock
from crmsync.sandbox.faults import FaultKind, FaultPlan, FaultRule
from crmsync.sandbox.org import Org
from crmsync.sandbox.salesforce import SalesforceAuth, SalesforceSandbox
from tests.sandbox.conftest import SalesforceRedirect

AUTH = SalesforceAuth()


def test_client_credentials_login(sandbox: SalesforceSandbox, session: requests.Session) -> None:
    """The client-credentials flow (Basic auth, My Domain) yields a token and the sandbox's instance URL."""
    sf = Salesforce(consumer_key=AUTH.consumer_key, consumer_secret=AUTH.consumer_secret, domain="acme.my",
                    session=session)  # fmt: skip
    assert sf.sf_instance == sandbox.url.removeprefix("https://")
    assert sf.session_id != sandbox.token
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 5


def test_wrong_client_secret_is_refused(sandbox: SalesforceSandbox, session: requests.Session) -> None:
    """A wrong secret gets 400 invalid_client, which simple-salesforce raises as an authentication failure."""
    with pytest.raises(SalesforceAuthenticationFailed, match="invalid_client"):
        Salesforce(consumer_key=AUTH.consumer_key, consumer_secret="wrong", domain="acme.my", session=session)


def test_password_grant(sandbox: SalesforceSandbox, session: requests.Session) -> None:
    """The OAuth username-password grant works with the sandbox's integration user."""
    sf = Salesforce(username=AUTH.username, password=AUTH.password, consumer_key=AUTH.consumer_key,
                    consumer_secret=AUTH.consumer_secret, session=session)  # fmt: skip
    assert sf.query("SELECT Id FROM User WHERE Username = 'integration@crmsync.sandbox'")["totalSize"] == 1


@pytest.fixture
def jwt_sandbox(sf_org: Org, clock: FakeClock, tmp_path: Path) -> Iterator[tuple[SalesforceSandbox, bytes]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())  # fmt: skip
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    srv = SalesforceSandbox(
        sf_org, clock=clock, tls_dir=tmp_path / "jwt", auth=SalesforceAuth(jwt_public_key=public.decode())
    )
    srv.start()
    yield srv, private
    srv.stop()


def test_jwt_bearer_login(jwt_sandbox: tuple[SalesforceSandbox, bytes]) -> None:
    """A JWT signed by the registered key logs in; one signed by another key is refused with invalid_grant."""
    srv, private = jwt_sandbox
    with requests.Session() as s:
        s.verify, s.trust_env = str(srv.ca_path), False
        s.mount("https://", SalesforceRedirect(srv.url.removeprefix("https://")))
        sf = Salesforce(username=AUTH.username, consumer_key=AUTH.consumer_key, privatekey=private.decode(), session=s)
        assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 1
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        with pytest.raises(SalesforceAuthenticationFailed, match="invalid_grant"):
            Salesforce(username=AUTH.username, consumer_key=AUTH.consumer_key, privatekey=other.decode(), session=s)


def test_expired_session_relogin(sandbox: SalesforceSandbox, session: requests.Session) -> None:
    """After expire_sessions a logged-in client gets 401 INVALID_SESSION_ID, logs in again and goes on."""
    sf = Salesforce(consumer_key=AUTH.consumer_key, consumer_secret=AUTH.consumer_secret, domain="acme.my",
                    session=session)  # fmt: skip
    old = sf.session_id
    sandbox.expire_sessions()
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 5
    assert sf.session_id != old
    assert sandbox.stats.snapshot()["by_status"]["401"] == 1


def test_bad_token_is_401(sandbox: SalesforceSandbox, session: requests.Session) -> None:
    """A direct session with an unknown token raises SalesforceExpiredSession (401 INVALID_SESSION_ID)."""
    sf = Salesforce(instance_url=sandbox.url, session_id="00Dnope!nope", session=session)
    with pytest.raises(SalesforceExpiredSession) as err:
        sf.query("SELECT Id FROM Lead")
    assert err.value.content == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


@pytest.mark.parametrize("fault_plan", [FaultPlan(daily_quota={"salesforce": 3})], ids=["quota-3"])
def test_daily_quota_gives_request_limit_exceeded(sf: Salesforce) -> None:
    """Past the daily quota calls get 403 REQUEST_LIMIT_EXCEEDED (crm-api-facts A9)."""
    for _ in range(3):
        sf.query("SELECT COUNT() FROM Lead")
    with pytest.raises(SalesforceRefusedRequest) as err:
        sf.query("SELECT COUNT() FROM Lead")
    assert err.value.content == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]


@pytest.mark.parametrize(
    "fault_plan",
    [FaultPlan((FaultRule(FaultKind.STATUS, endpoint="sf.query", status=503, times=1),
                FaultRule(FaultKind.EXPIRED_SESSION, endpoint="sf.row.get", times=1)))],
    ids=["503-then-expiry"],
)  # fmt: skip
def test_request_faults(sf: Salesforce, seeded: dict[str, str], sandbox: SalesforceSandbox) -> None:
    """A 503 fault raises SalesforceGeneralError once; an expired-session fault answers 401 INVALID_SESSION_ID."""
    with pytest.raises(SalesforceGeneralError) as err:
        sf.query("SELECT Id FROM Lead")
    assert (err.value.status, err.value.content[0]["errorCode"]) == (503, "SERVER_UNAVAILABLE")
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 5
    with pytest.raises(SalesforceExpiredSession):
        sf.Lead.get(seeded["lead0"])
    assert sandbox.stats.snapshot()["faults"] == {"status": 1, "expired_session": 1}


def test_stats_endpoint_counts_by_endpoint(
    sf: Salesforce, sandbox: SalesforceSandbox, session: requests.Session
) -> None:
    """GET /__sandbox/stats reports requests by endpoint name and quota cost."""
    sf.query("SELECT Id FROM Lead")
    sf.Lead.describe()
    snap = session.get(f"{sandbox.url}/__sandbox/stats").json()
    assert snap["by_endpoint"] == {"sf.query": 1, "sf.describe": 1}
    assert snap["quota_used_today"] == 2
