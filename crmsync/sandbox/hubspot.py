"""The sandbox HubSpot CRM v3 server: plain HTTP on 127.0.0.1, private-app bearer token, HubSpot's limits.

Build and start it (the Sandbox facade does this)::

    org = Org(HUBSPOT_RULES, hubspot_schemas(), clock)
    hs = HubSpotSandbox(org, clock=clock, faults=plan, stats=Stats())
    url = hs.start()              # "http://127.0.0.1:PORT"
    hubspot.Client.create(access_token=hs.token, host=url)
    ...
    hs.stop()

(:func:`hubspot_server` builds the bare :class:`SandboxServer` the class wraps.)

Endpoints: :mod:`.hubspot_objects` (contacts, emails, calls, meetings, notes, tasks: list/get/create/update/
archive/search/batch), :mod:`.hubspot_meta` (owners, associations v4, properties). What this module adds,
per https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines and the error-handling
guide:

- **401** for a missing or wrong token: ``{"status": "error", "message": "Authentication credentials not
  found…", "correlationId", "category": "INVALID_AUTHENTICATION"}``; an injected expired session answers 401
  with category ``EXPIRED_AUTHENTICATION``.
- **Rate limits** (:class:`HubSpotLimits`, Professional tier by default): every answer carries
  ``X-HubSpot-RateLimit-Daily``, ``-Daily-Remaining``, ``-Interval-Milliseconds``, ``-Max``, ``-Remaining``
  (the 10-second burst window) and the older ``-Secondly``/``-Secondly-Remaining`` pair. Past the burst
  window (measured on the clock's monotonic time) or the search limit (5 a second) the answer is **429**
  ``{"status": "error", "message": "You have reached your secondly limit.", "errorType": "RATE_LIMIT",
  "correlationId", "policyName": "SECONDLY", "groupName", "requestId"}``; past the daily quota (the fault
  plan's ``daily_quota.hubspot`` or ``HubSpotLimits.daily``, per simulated day) the same body with
  ``policyName: DAILY`` and "daily limit". No ``Retry-After`` (HubSpot does not document one).
- Errors for unknown routes (404 ``OBJECT_NOT_FOUND``) and injected 5xx use the general error body.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from crmsync.clock import Clock
from crmsync.sandbox.faults import Fault, FaultKind, FaultPlan
from crmsync.sandbox.hubspot_meta import MetaApi
from crmsync.sandbox.hubspot_objects import ObjectApi
from crmsync.sandbox.hubspot_wire import correlation_id, error, error_body
from crmsync.sandbox.org import Org
from crmsync.sandbox.server import Request, Response, Router, SandboxServer, json_response
from crmsync.sandbox.stats import Stats

_CATEGORY = {404: "OBJECT_NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 500: "INTERNAL_ERROR", 502: "BAD_GATEWAY",
             503: "SERVICE_UNAVAILABLE", 504: "GATEWAY_TIMEOUT"}  # fmt: skip
DEFAULT_TOKEN = "pat-na1-crmsync-sandbox"  # noqa: S105 - the sandbox's fixed fake private-app token
AUTH_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more "
    "details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


@dataclass(frozen=True, slots=True)
class HubSpotLimits:
    """The portal's limits (Professional tier: 190 per 10 s, 625,000 a day; search 5 a second).

    ``enforce=False`` still sends the headers but lifts the burst and search limits (benchmarks that measure
    the sandbox itself, tests that never advance the clock); the daily quota and a fault plan's
    ``rate_limit`` rules still apply.
    """

    daily: int = 625_000
    burst: int = 190
    interval_ms: int = 10_000
    search_per_second: int = 5
    enforce: bool = True


@dataclass
class _Window:
    """Requests counted in the current fixed window of ``length`` seconds."""

    length: float
    start: float = float("-inf")
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hit(self, now: float) -> int:
        """Count one request at monotonic ``now``; return the count in its window."""
        with self.lock:
            if now - self.start >= self.length:
                self.start, self.count = now, 0
            self.count += 1
            return self.count

    def used(self, now: float) -> int:
        with self.lock:
            return self.count if now - self.start < self.length else 0


class HubSpotDialect:
    """How the sandbox HubSpot authenticates, limits, fails and decorates (the server's Dialect)."""

    def __init__(self, *, token: str, clock: Clock, stats: Stats, faults: FaultPlan, limits: HubSpotLimits) -> None:
        self.token = token
        self.clock = clock
        self.stats = stats
        self.faults = faults
        self.limits = limits
        self.burst = _Window(limits.interval_ms / 1000)
        self.search = _Window(1.0)

    @property
    def daily(self) -> int:
        quota = self.faults.quota("hubspot")
        return self.limits.daily if quota is None else quota

    def authenticate(self, request: Request) -> Response | None:
        if request.token == self.token:
            return None
        return error(401, "INVALID_AUTHENTICATION", AUTH_MESSAGE)

    def admit(self, request: Request, quota_used: int) -> Response | None:
        now = self.clock.monotonic()
        in_burst = self.burst.hit(now)
        in_search = self.search.hit(now) if request.endpoint.endswith(".search") else 0
        if quota_used > self.daily:
            return rate_limited("DAILY")
        if not self.limits.enforce:
            return None
        if in_burst > self.limits.burst or in_search > self.limits.search_per_second:
            return rate_limited("SECONDLY")
        return None

    def error(self, request: Request, status: int, code: str, message: str) -> Response:
        category = _CATEGORY.get(status, code)
        return error(status, category, "resource not found" if status == 404 else message)

    def fault(self, request: Request, fault: Fault) -> Response:
        if fault.kind is FaultKind.RATE_LIMIT:
            return rate_limited("DAILY" if fault.rule.policy.upper() == "DAILY" else "SECONDLY")
        if fault.kind is FaultKind.EXPIRED_SESSION:
            message = "The OAuth token used to make this call expired 1000 millisecond(s) ago."
            return error(401, "EXPIRED_AUTHENTICATION", message)
        status = fault.rule.status
        return error(status, _CATEGORY.get(status, "INTERNAL_ERROR"), fault.rule.message or "internal error")

    def decorate(self, request: Request, response: Response) -> None:
        now = self.clock.monotonic()
        limits = self.limits
        used = self.burst.used(now)
        per_second = max(limits.burst * 1000 // limits.interval_ms, 1)
        response.headers.update(
            {
                "X-HubSpot-RateLimit-Daily": str(self.daily),
                "X-HubSpot-RateLimit-Daily-Remaining": str(max(self.daily - self.stats.used_today(request.now), 0)),
                "X-HubSpot-RateLimit-Interval-Milliseconds": str(limits.interval_ms),
                "X-HubSpot-RateLimit-Max": str(limits.burst),
                "X-HubSpot-RateLimit-Remaining": str(max(limits.burst - used, 0)),
                "X-HubSpot-RateLimit-Secondly": str(per_second),
                "X-HubSpot-RateLimit-Secondly-Remaining": str(min(per_second, max(limits.burst - used, 0))),
            }
        )


def rate_limited(policy: str) -> Response:
    """429 with HubSpot's documented rate-limit body for ``policy`` SECONDLY or DAILY."""
    which = "daily" if policy == "DAILY" else "secondly"
    body = {
        "status": "error",
        "message": f"You have reached your {which} limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": correlation_id(),
        "policyName": policy,
        "groupName": "publicapi:private-app",
        "requestId": correlation_id().replace("-", ""),
    }
    return json_response(429, body)


def hubspot_router(org: Org, created: datetime) -> Router:
    """Every HubSpot route over ``org`` (``created``: the portal's creation time, for built-in properties)."""
    router = Router()
    ObjectApi(org).register(router)
    MetaApi(org, created).register(router)
    return router


def hubspot_server(
    org: Org,
    *,
    clock: Clock,
    token: str,
    stats: Stats | None = None,
    faults: FaultPlan | None = None,
    limits: HubSpotLimits | None = None,
) -> SandboxServer:
    """A (not yet started) HubSpot server over ``org``; ``server.start()`` binds 127.0.0.1:0 and returns the URL."""
    stats = stats or Stats()
    faults = faults or FaultPlan()
    dialect = HubSpotDialect(token=token, clock=clock, stats=stats, faults=faults, limits=limits or HubSpotLimits())
    return SandboxServer("hubspot", hubspot_router(org, clock.now()), dialect, clock=clock, stats=stats, faults=faults)


class HubSpotSandbox:
    """A HubSpot portal served over plain HTTP: routes, private-app token, limits, stats and faults."""

    def __init__(
        self,
        org: Org,
        *,
        clock: Clock,
        token: str = DEFAULT_TOKEN,
        stats: Stats | None = None,
        faults: FaultPlan | None = None,
        limits: HubSpotLimits | None = None,
    ) -> None:
        self.org = org
        self.token = token
        self.stats = stats or Stats()
        self.server = hubspot_server(org, clock=clock, token=token, stats=self.stats, faults=faults, limits=limits)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` once started."""
        return self.server.url

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a background thread; return the base URL for ``hubspot.Client.create(host=...)``."""
        return self.server.start(host, port)

    def stop(self) -> None:
        """Stop serving."""
        self.server.stop()


__all__ = [
    "HubSpotDialect",
    "HubSpotLimits",
    "HubSpotSandbox",
    "error_body",
    "hubspot_router",
    "hubspot_server",
    "rate_limited",
]
