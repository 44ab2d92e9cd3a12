"""HubSpot OAuth: the access token comes from the refresh token on first use and again after a 401."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from crmsync.clock import FakeClock
from crmsync.crm.config import load_connection
from crmsync.crm.factory import connect
from crmsync.crm.hubspot import HubSpotCrm
from crmsync.errors import AuthError
from crmsync.sandbox.faults import FaultKind, FaultPlan, FaultRule
from crmsync.sandbox.hubspot import HubSpotSandbox
from crmsync.sandbox.org import HUBSPOT_RULES, Org
from crmsync.sandbox.schema import hubspot_schemas
from tests.logguard import sentinel

ACCESS = "pat-na1-oauth-access-token-1"
REFRESH = "oauth-refresh-token-abc"


class TokenServer(ThreadingHTTPServer):
    """``POST /oauth/v1/token``: grants ``ACCESS`` for the right refresh token, counts the grants."""

    grants = 0
    refuse = False


class TokenHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"] or 0)).decode())
        server = self.server
        assert isinstance(server, TokenServer)
        ok = (
            not server.refuse and form.get("refresh_token") == [REFRESH] and form.get("grant_type") == ["refresh_token"]
        )
        if ok:
            server.grants += 1
        granted = {"access_token": ACCESS, "refresh_token": REFRESH, "expires_in": 1800}
        refused = {"status": "BAD_REFRESH_TOKEN", "message": "missing or unknown refresh token"}
        body = json.dumps(granted if ok else refused).encode()
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def token_server() -> Iterator[TokenServer]:
    server = TokenServer(("127.0.0.1", 0), TokenHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def oauth_crm(clock: FakeClock, token_server: TokenServer, plan: FaultPlan) -> tuple[HubSpotCrm, HubSpotSandbox]:
    org = Org(HUBSPOT_RULES, hubspot_schemas(), clock)
    org.create("owners", {"email": "ana@acme.test", "firstName": "Ana", "type": "PERSON"})
    portal = HubSpotSandbox(org, clock=clock, token=sentinel(ACCESS), faults=plan)
    url = portal.start()
    block = {"host": url, "client_id": "app-1", "client_secret": sentinel("oauth-client-secret-9"),
             "refresh_token": sentinel(REFRESH)}  # fmt: skip
    crm = connect(load_connection({"name": "hs", "vendor": "hubspot", "hubspot": block}), clock=clock)
    assert isinstance(crm, HubSpotCrm)
    host, port = token_server.server_address[:2]
    crm.api.tokens.api_client.configuration.host = f"http://{host}:{port}"  # the token endpoint lives elsewhere here
    return crm, portal


def test_oauth_token_is_fetched_lazily_and_refreshed_after_a_401(clock: FakeClock, token_server: TokenServer) -> None:
    """No call at connect; the first call fetches a token; an expired session refreshes once and goes on."""
    plan = FaultPlan(rules=(FaultRule(FaultKind.EXPIRED_SESSION, endpoint="hs.owners.list", after=1, times=1),))
    crm, portal = oauth_crm(clock, token_server, plan)
    try:
        assert token_server.grants == 0
        # two list calls (active, archived owners): the first fetches a token, the second gets 401 and refreshes
        assert [o.name for page in crm.pull_owners() for o in page.records] == ["Ana"]
        assert token_server.grants == 2
        assert crm.api.refreshes == 1
        assert [o.name for page in crm.pull_owners() for o in page.records] == ["Ana"]
        assert token_server.grants == 2
    finally:
        portal.stop()


def test_a_refused_refresh_is_an_auth_error(clock: FakeClock, token_server: TokenServer) -> None:
    """A refresh token the portal no longer accepts stops the connection with AuthError."""
    token_server.refuse = True
    crm, portal = oauth_crm(clock, token_server, FaultPlan())
    try:
        with pytest.raises(AuthError, match="OAuth refresh"):
            list(crm.pull_owners())
    finally:
        portal.stop()
