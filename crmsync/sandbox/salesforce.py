"""The sandbox Salesforce REST server: TLS on 127.0.0.1, the endpoints simple-salesforce calls.

Usage::

    sf = SalesforceSandbox(org, clock=clock, tls_dir=tmp / "certs")
    url = sf.start()                       # https://127.0.0.1:PORT; sf.ca_path verifies it
    Salesforce(instance_url=url, session_id=sf.token, session=s)   # s.verify=ca, s.trust_env=False

Authentication: the static ``token`` (never expires), or tokens issued by ``POST /services/oauth2/token``
(client credentials with HTTP Basic, username-password, JWT bearer signed with the key whose public half
is ``SalesforceAuth.jwt_public_key``). :meth:`SalesforceSandbox.expire_sessions` revokes issued tokens;
an ``expired_session`` fault answers 401 ``INVALID_SESSION_ID`` once and revokes the token used, as a real
expiry would. Every answer but the versions list carries ``Sforce-Limit-Info: api-usage=used/max``;
past the daily quota (``daily_quota``, or the fault plan's) calls get 403 ``REQUEST_LIMIT_EXCEEDED``.
Endpoint names for stats and fault rules are the ``sf.*`` names in :meth:`SalesforceSandbox._routes`.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt

from crmsync.clock import Clock
from crmsync.sandbox import sf_meta, sf_read, sf_rest
from crmsync.sandbox.faults import Fault, FaultKind, FaultPlan
from crmsync.sandbox.org import Org
from crmsync.sandbox.server import Handler, Request, Response, Router, SandboxServer, make_tls
from crmsync.sandbox.sf_read import SfState, sf_json
from crmsync.sandbox.sf_write import AssignmentRule, SalesforceWriter
from crmsync.sandbox.stats import Stats

API = r"/services/data/v(?P<v>\d+\.\d+)"
OBJ = r"(?P<obj>[A-Za-z][A-Za-z0-9_]*)"
ORG_ID = "00DSb0000000001MAA"
_FAULT_STATUS = {500: "UNKNOWN_EXCEPTION", 502: "BAD_GATEWAY", 503: "SERVER_UNAVAILABLE"}


@dataclass(frozen=True)
class SalesforceAuth:
    """The connected app and integration user the sandbox accepts."""

    consumer_key: str = "crmsync-sandbox-consumer-key"
    consumer_secret: str = "crmsync-sandbox-consumer-secret"  # noqa: S105 - a fixed fake for the sandbox
    username: str = "integration@crmsync.sandbox"
    password: str = "sandbox-password"  # noqa: S105 - a fixed fake for the sandbox
    static_token: str = f"{ORG_ID}!sandbox.static.session"
    jwt_public_key: str | None = None


class SalesforceDialect:
    """Salesforce's error array, 401 INVALID_SESSION_ID, REQUEST_LIMIT_EXCEEDED and limit header."""

    def __init__(self, sandbox: SalesforceSandbox) -> None:
        self.sandbox = sandbox

    def authenticate(self, request: Request) -> Response | None:
        if self.sandbox.valid_token(request.token):
            return None
        return self.error(request, 401, "INVALID_SESSION_ID", "Session expired or invalid")

    def admit(self, request: Request, quota_used: int) -> Response | None:
        if quota_used > self.sandbox.daily_quota:
            return self.error(request, 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        return None

    def error(self, request: Request, status: int, code: str, message: str) -> Response:
        if status == 405:
            message = f"HTTP Method '{request.method}' not allowed."
        elif status == 404 and code == "NOT_FOUND":
            message = "The requested resource does not exist"
        return sf_json(status, [{"message": message, "errorCode": code}])

    def fault(self, request: Request, fault: Fault) -> Response:
        rule = fault.rule
        if rule.kind is FaultKind.EXPIRED_SESSION:
            self.sandbox.revoke(request.token)
            return self.error(request, 401, "INVALID_SESSION_ID", "Session expired or invalid")
        if rule.kind is FaultKind.RATE_LIMIT:
            return self.error(request, 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        code = _FAULT_STATUS.get(rule.status, "UNKNOWN_EXCEPTION")
        return self.error(request, rule.status, code, rule.message or "The server is temporarily unavailable.")

    def decorate(self, request: Request, response: Response) -> None:
        if request.endpoint != "sf.versions":
            used = self.sandbox.stats.used_today(request.now)
            response.headers["Sforce-Limit-Info"] = f"api-usage={used}/{self.sandbox.daily_quota}"


class SalesforceSandbox:
    """A Salesforce org served over TLS: routes, tokens, assignment rule, quota, stats and faults."""

    def __init__(
        self,
        org: Org,
        *,
        clock: Clock,
        tls_dir: Path,
        stats: Stats | None = None,
        faults: FaultPlan | None = None,
        daily_quota: int = 100_000,
        auth: SalesforceAuth | None = None,
        rule: AssignmentRule | None = None,
    ) -> None:
        self.org = org
        self.auth = auth or SalesforceAuth()
        self.stats = stats or Stats()
        plan = faults or FaultPlan()
        self.daily_quota = plan.quota("salesforce") or daily_quota
        self.rule = rule or AssignmentRule()
        self.running_user = self._integration_user()
        self.state = SfState(org, SalesforceWriter(org, self.rule, self.running_user), self.stats, self.daily_quota)
        self._tokens: set[str] = set()
        self._lock = threading.Lock()
        tls, self.ca_path = make_tls(tls_dir)
        self.server = SandboxServer(
            "salesforce", self._routes(), SalesforceDialect(self), clock=clock, stats=self.stats, faults=plan, tls=tls
        )

    # -- lifecycle ----------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """``https://127.0.0.1:PORT`` once started."""
        return self.server.url

    @property
    def token(self) -> str:
        """The static session id (never expires)."""
        return self.auth.static_token

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a background thread; return the instance URL."""
        return self.server.start(host, port)

    def stop(self) -> None:
        """Stop serving."""
        self.server.stop()

    # -- sessions -----------------------------------------------------------------------------------------
    def valid_token(self, token: str | None) -> bool:
        """Whether ``token`` is the static token or a live issued one."""
        with self._lock:
            return token is not None and (token == self.auth.static_token or token in self._tokens)

    def issue_token(self) -> str:
        """A fresh session id, as the OAuth endpoint hands out."""
        token = f"{ORG_ID[:15]}!{secrets.token_urlsafe(32)}"
        with self._lock:
            self._tokens.add(token)
        return token

    def revoke(self, token: str | None) -> None:
        """Expire one issued token (the static one stays valid)."""
        with self._lock:
            self._tokens.discard(token or "")

    def expire_sessions(self) -> None:
        """Expire every issued token: the next call with one gets 401 INVALID_SESSION_ID."""
        with self._lock:
            self._tokens.clear()

    def _integration_user(self) -> str:
        found = self.org.find("User", "Username", self.auth.username)
        if found:
            return found[0]
        user = self.org.create(
            "User",
            {
                "Username": self.auth.username, "Email": self.auth.username, "FirstName": "Integration",
                "LastName": "User", "Name": "Integration User", "IsActive": True,
                "TimeZoneSidKey": "GMT", "UserType": "Standard",
            },
        )  # fmt: skip
        return str(user["Id"])

    # -- OAuth --------------------------------------------------------------------------------------------
    def oauth_token(self, req: Request) -> Response:
        """``POST /services/oauth2/token``: client_credentials (Basic), password, or JWT bearer."""
        form = {k: v[0] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items()}
        grant = form.get("grant_type", "")
        if grant == "client_credentials":
            ok = self._client_ok(req, form)
        elif grant == "password":
            ok = self._client_ok(req, form) and (form.get("username"), form.get("password")) == (
                self.auth.username,
                self.auth.password,
            )
        elif grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return self._jwt_grant(form.get("assertion", ""))
        else:
            return sf_json(400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"})
        if not ok:
            return sf_json(400, {"error": "invalid_client", "error_description": "invalid client credentials"})
        return self._granted()

    def _client_ok(self, req: Request, form: dict[str, str]) -> bool:
        key, secret = form.get("client_id"), form.get("client_secret")
        scheme, _, value = (req.header("Authorization") or "").partition(" ")
        if scheme.lower() == "basic":
            try:
                key, _, secret = base64.b64decode(value).decode().partition(":")
            except ValueError:
                return False
        return (key, secret) == (self.auth.consumer_key, self.auth.consumer_secret)

    def _jwt_grant(self, assertion: str) -> Response:
        bad = sf_json(400, {"error": "invalid_grant", "error_description": "invalid assertion"})
        key = self.auth.jwt_public_key
        try:
            claims: dict[str, Any] = jwt.decode(
                assertion,
                key=key or "",
                algorithms=["RS256"],
                options={"verify_signature": key is not None, "verify_aud": False, "require": ["exp", "sub", "iss"]},
            )
        except jwt.PyJWTError:
            return bad
        audience = str(claims.get("aud", ""))
        if claims.get("iss") != self.auth.consumer_key or not audience.startswith("https://"):
            return bad
        if claims.get("sub") != self.auth.username:
            return sf_json(400, {"error": "invalid_grant", "error_description": "user hasn't approved this consumer"})
        return self._granted()

    def _granted(self) -> Response:
        return sf_json(
            200,
            {
                "access_token": self.issue_token(), "instance_url": self.url,
                "id": f"https://login.salesforce.com/id/{ORG_ID}/{self.running_user}", "token_type": "Bearer",
                "issued_at": str(int(time.time() * 1000)), "signature": secrets.token_urlsafe(32), "scope": "api",
            },
        )  # fmt: skip

    # -- routes -------------------------------------------------------------------------------------------
    def _routes(self) -> Router:
        r, s = Router(), self.state

        def bind(fn: Callable[[SfState, Request], Response]) -> Callable[[Request], Response]:
            return lambda req: fn(s, req)

        r.add("GET", r"/services/data/?", "sf.versions", sf_meta.versions, cost=0, public=True)
        r.add("POST", r"/services/oauth2/token/?", "sf.oauth.token", self.oauth_token, cost=0, public=True)
        r.add("GET", API + r"/?", "sf.resources", sf_meta.resources)
        r.add("GET", API + r"/limits/?", "sf.limits", bind(sf_meta.limits))
        r.add("GET", API + r"/query/?", "sf.query", lambda q: sf_read.query(s, q, include_deleted=False))
        r.add("GET", API + r"/queryAll/?", "sf.query_all", lambda q: sf_read.query(s, q, include_deleted=True))
        more = r"/(?:query|queryAll)/(?P<locator>01g\w{15})-(?P<offset>\d+)/?"
        r.add("GET", API + more, "sf.query_more", bind(sf_read.query_more))
        r.add("GET", API + r"/sobjects/?", "sf.describe_global", bind(sf_meta.describe_global))
        r.add("GET", API + rf"/sobjects/{OBJ}/describe/?", "sf.describe", bind(sf_meta.describe))
        r.add("GET", API + rf"/sobjects/{OBJ}/updated/?", "sf.updated", bind(sf_read.updated))
        r.add("GET", API + rf"/sobjects/{OBJ}/deleted/?", "sf.deleted", bind(sf_read.deleted))
        r.add("GET", API + rf"/sobjects/{OBJ}/?", "sf.sobject", bind(sf_meta.sobject_basic))
        r.add("POST", API + rf"/sobjects/{OBJ}/?", "sf.row.create", bind(sf_rest.create_row))
        self._row_routes(r, bind)
        return r

    def _row_routes(self, r: Router, bind: Callable[[Callable[[SfState, Request], Response]], Handler]) -> None:
        row = API + rf"/sobjects/{OBJ}/(?P<id>[A-Za-z0-9]{{15}}(?:[A-Za-z0-9]{{3}})?)/?"
        r.add("GET", row, "sf.row.get", bind(sf_read.get_row))
        r.add("PATCH", row, "sf.row.update", bind(sf_rest.update_row))
        r.add("DELETE", row, "sf.row.delete", bind(sf_rest.delete_row))
        ext = API + rf"/sobjects/{OBJ}/(?P<field>\w+)/(?P<value>[^/]+)/?"
        r.add("GET", ext, "sf.row.get_by_external_id", bind(sf_read.get_by_external_id))
        r.add("PATCH", ext, "sf.row.upsert", bind(sf_rest.upsert_row))
        coll = API + r"/composite/sobjects/?"
        r.add("POST", coll, "sf.composite.create", bind(sf_rest.collection_create))
        r.add("PATCH", coll, "sf.composite.update", bind(sf_rest.collection_update))
        r.add("DELETE", coll, "sf.composite.delete", bind(sf_rest.collection_delete))
        r.add("PATCH", API + rf"/composite/sobjects/{OBJ}/(?P<field>\w+)/?", "sf.composite.upsert",
              bind(sf_rest.collection_upsert))  # fmt: skip
        r.add("GET", API + rf"/composite/sobjects/{OBJ}/?", "sf.composite.retrieve", bind(sf_rest.collection_retrieve))
        r.add("POST", API + rf"/composite/sobjects/{OBJ}/?", "sf.composite.retrieve", bind(sf_rest.collection_retrieve))
