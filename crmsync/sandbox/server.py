"""HTTP plumbing shared by the sandbox Salesforce and HubSpot servers.

A vendor server is a :class:`Router` (method + path regex → handler, each route with an endpoint name and
an API-quota cost) plus a :class:`Dialect` (how that vendor authenticates, renders errors and faults, and
decorates every answer with its limit headers). :class:`SandboxServer` runs them:

1. route the request (404/405 through the dialect); ``GET /__sandbox/stats`` is built in and public;
2. authenticate (unless the route is public) → the dialect's 401;
3. charge the route's cost to :class:`~crmsync.sandbox.stats.Stats` and let the dialect refuse
   (daily quota, burst limit);
4. ask the :class:`~crmsync.sandbox.faults.FaultPlan`: ``slow`` waits, any other request fault is
   answered by the dialect; per-record faults are drawn by handlers through :meth:`Request.record_faults`;
5. call the handler (which may raise :class:`HttpError` to answer early), let the dialect decorate the
   answer, count it, and write it in one send over keep-alive HTTP/1.1 (``Content-Length`` always,
   ``TCP_NODELAY`` set: without it each keep-alive request waits ~40 ms for a delayed ACK).

TLS comes from a trustme CA written to ``<folder>/ca.pem`` (:func:`make_tls`); the handshake runs in the
connection's own thread. :meth:`SandboxServer.start` binds 127.0.0.1 port 0 by default and returns the URL.
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import structlog

from crmsync.clock import Clock
from crmsync.sandbox.faults import Fault, FaultKind, FaultPlan
from crmsync.sandbox.stats import Stats

log = structlog.get_logger(__name__)

JSON_TYPE = "application/json;charset=UTF-8"


@dataclass
class Response:
    """An answer: status, body bytes, extra headers (``Content-Length`` is added on the wire)."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = JSON_TYPE


def json_response(
    status: int,
    payload: Any,
    headers: Mapping[str, str] | None = None,
    *,
    default: Callable[[Any], Any] | None = None,
) -> Response:
    """A compact JSON answer; ``default`` serialises values json cannot (datetimes)."""
    body = json.dumps(payload, separators=(",", ":"), default=default).encode()
    return Response(status, body, dict(headers or {}))


class HttpError(Exception):
    """Raised by a handler to answer at once with ``response`` (an error in the vendor's shape)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


@dataclass
class Request:
    """One parsed request as handlers see it.

    ``params`` are the route's named regex groups; ``endpoint`` the route name; ``now`` the sandbox clock
    at arrival; ``token`` the bearer token (None when absent).
    """

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    now: Any
    endpoint: str = ""
    params: dict[str, str] = field(default_factory=dict)
    faults: FaultPlan | None = None

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name: str) -> str | None:
        """A request header, case-insensitively."""
        value = self.headers.get(name)
        return None if value is None else str(value)

    @property
    def token(self) -> str | None:
        auth = self.header("Authorization") or ""
        scheme, _, value = auth.partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else None

    def json(self) -> Any:
        """The body parsed as JSON; ValueError when it is not JSON."""
        return json.loads(self.body.decode("utf-8")) if self.body else None

    def record_faults(self, count: int) -> list[Fault | None]:
        """Per-record faults for a collection/batch of ``count`` records (all None without a plan)."""
        if self.faults is None:
            return [None] * count
        return self.faults.record_faults(self.endpoint, self.method, count)


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    """A method + anchored path regex, the endpoint name used for stats and faults, and its quota cost."""

    method: str
    pattern: re.Pattern[str]
    endpoint: str
    handler: Handler
    cost: int = 1
    public: bool = False


class Router:
    """Routes in the order added; the first whose method and full path match wins."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(
        self, method: str, pattern: str, endpoint: str, handler: Handler, *, cost: int = 1, public: bool = False
    ) -> None:
        """Register ``handler`` for ``method`` on paths fully matching ``pattern`` (named groups → params)."""
        self.routes.append(Route(method.upper(), re.compile(pattern), endpoint, handler, cost, public))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | bool:
        """The route and its (URL-decoded) params; False when no path matches; True when only another method does."""
        path_known = False
        for route in self.routes:
            found = route.pattern.fullmatch(path)
            if found is None:
                continue
            if route.method == method:
                return route, {k: unquote(v) for k, v in found.groupdict().items() if v is not None}
            path_known = True
        return path_known


class Dialect(Protocol):
    """What differs between the vendors, called by :class:`SandboxServer` for every request."""

    def authenticate(self, request: Request) -> Response | None:
        """None when the request may proceed, else the vendor's 401."""

    def admit(self, request: Request, quota_used: int) -> Response | None:
        """After charging the cost: None to proceed, else a refusal (daily quota, burst limit)."""

    def error(self, request: Request, status: int, code: str, message: str) -> Response:
        """An error answer in the vendor's documented shape."""

    def fault(self, request: Request, fault: Fault) -> Response:
        """The answer for an injected request-level fault (status, rate_limit, expired_session)."""

    def decorate(self, request: Request, response: Response) -> None:
        """Add headers every answer carries (Sforce-Limit-Info, X-HubSpot-RateLimit-*)."""


class SandboxServer:
    """One vendor's server: dispatch (usable without sockets) plus a threaded HTTP(S) listener."""

    def __init__(
        self,
        name: str,
        router: Router,
        dialect: Dialect,
        *,
        clock: Clock,
        stats: Stats | None = None,
        faults: FaultPlan | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.name = name
        self.router = router
        self.dialect = dialect
        self.clock = clock
        self.stats = stats or Stats()
        self.faults = faults or FaultPlan()
        self.tls = tls
        self.stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- dispatch -----------------------------------------------------------------------------------------
    def dispatch(self, method: str, target: str, headers: Message, body: bytes) -> Response:
        """Answer one request; never raises (an unexpected handler error becomes the dialect's 500)."""
        started = time.perf_counter()
        parts = urlsplit(target)
        req = Request(method.upper(), parts.path, parse_qs(parts.query), headers, body, self.clock.now())
        req.faults = self.faults
        route, cost, fault_name = None, 0, None
        try:
            if req.path.rstrip("/") == "/__sandbox/stats" and req.method == "GET":
                req.endpoint = "sandbox.stats"
                return json_response(200, self.stats.snapshot())
            found = self.router.match(req.method, req.path)
            if not isinstance(found, tuple):
                req.endpoint = "unknown"
                status, code = (405, "METHOD_NOT_ALLOWED") if found else (404, "NOT_FOUND")
                resp = self.dialect.error(req, status, code, HTTPStatus(status).phrase)
            else:
                route, req.params = found
                req.endpoint = route.endpoint
                cost = route.cost
                resp, fault_name = self._guarded(route, req)
        except Exception:  # the sandbox must answer, like a real server, whatever a handler did
            log.exception("sandbox_handler_failed", server=self.name, endpoint=req.endpoint)
            resp = self.dialect.error(req, 500, "UNKNOWN_EXCEPTION", "An unexpected error occurred")
        self.dialect.decorate(req, resp)
        elapsed = (time.perf_counter() - started) * 1000
        self.stats.record(
            endpoint=req.endpoint, method=req.method, path=req.path, status=resp.status,
            cost=cost, duration_ms=round(elapsed, 3), at=req.now, fault=fault_name,
        )  # fmt: skip
        return resp

    def _guarded(self, route: Route, req: Request) -> tuple[Response, str | None]:
        if not route.public:
            refused = self.dialect.authenticate(req)
            if refused is not None:
                return refused, None
        if route.cost > 0:
            refused = self.dialect.admit(req, self.stats.charge(route.cost, req.now))
            if refused is not None:
                return refused, None
        for fault in self.faults.request_fault(route.endpoint, req.method):
            if fault.kind is FaultKind.SLOW:
                self.stopping.wait(fault.rule.seconds)
                continue
            return self.dialect.fault(req, fault), fault.kind.value
        try:
            return route.handler(req), None
        except HttpError as early:
            return early.response, None

    # -- lifecycle ----------------------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0: an ephemeral port) in a daemon thread; return the base URL."""
        if self._httpd is not None:
            return self.url
        httpd = _HTTPServer((host, port), _Handler)
        httpd.app = self
        httpd.tls = self.tls
        self._httpd = httpd
        self.stopping.clear()
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"sandbox-{self.name}", daemon=True
        )
        self._thread.start()
        scheme = "https" if self.tls else "http"
        self.url = f"{scheme}://{host}:{httpd.server_address[1]}"
        log.info("sandbox_server_started", server=self.name, url=self.url)
        return self.url

    def stop(self) -> None:
        """Stop listening, release slow answers, close the socket. Safe to call twice."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        log.info("sandbox_server_stopped", server=self.name)

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    app: SandboxServer
    tls: ssl.SSLContext | None = None

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        try:
            request.settimeout(10)
            wrapped = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            wrapped.settimeout(None)
            super().finish_request(wrapped, client_address)
        finally:
            wrapped.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connections dropped by clients are routine; say nothing."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 300
    server: _HTTPServer
    server_version = "crmsync-sandbox"
    sys_version = ""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        resp = self.server.app.dispatch(self.command, self.path, self.headers, body)
        head = [f"HTTP/1.1 {resp.status} {_phrase(resp.status)}", f"Content-Length: {len(resp.body)}"]
        if resp.body or resp.status not in (204, 304):
            head.append(f"Content-Type: {resp.content_type}")
        head += [f"{k}: {v}" for k, v in resp.headers.items()]
        if (self.headers.get("Connection") or "").lower() == "close":
            head.append("Connection: close")
            self.close_connection = True
        payload = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + resp.body
        self.wfile.write(payload)
        self.log_request(resp.status)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are counted in Stats; the stdlib's stderr access log stays quiet."""


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Status"


def make_tls(folder: Path) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context for 127.0.0.1/localhost from a fresh trustme CA; the CA is written to
    ``folder/ca.pem`` (created if needed). Returns (context, ca path)."""
    import trustme

    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    ca_path = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    return ctx, ca_path


def free_port() -> int:
    """An ephemeral port that was free a moment ago (for subprocesses that need one up front)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
