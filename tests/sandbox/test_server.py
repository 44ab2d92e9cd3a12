"""Sandbox HTTP plumbing: routing, keep-alive, TLS with the generated CA, stats, faults and errors."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from crmsync.clock import FakeClock
from crmsync.sandbox.faults import Fault, FaultKind, FaultPlan, FaultRule
from crmsync.sandbox.server import (
    HttpError,
    Request,
    Response,
    Router,
    SandboxServer,
    json_response,
    make_tls,
)
from crmsync.sandbox.stats import Stats


class ToyDialect:
    """A minimal vendor: token "good" is valid, errors are {"code": ..}, quota of 5 calls a day."""

    def authenticate(self, request: Request) -> Response | None:
        return None if request.token == "good" else json_response(401, {"code": "AUTH"})

    def admit(self, request: Request, quota_used: int) -> Response | None:
        return json_response(403, {"code": "QUOTA"}) if quota_used > 5 else None

    def error(self, request: Request, status: int, code: str, message: str) -> Response:
        return json_response(status, {"code": code, "message": message})

    def fault(self, request: Request, fault: Fault) -> Response:
        return json_response(fault.rule.status, {"code": fault.kind.value})

    def decorate(self, request: Request, response: Response) -> None:
        response.headers["X-Toy"] = request.endpoint


def _router() -> Router:
    router = Router()
    router.add("GET", r"/echo/(?P<name>\w+)/?", "toy.echo", lambda r: json_response(200, {"name": r.params["name"]}))
    router.add("GET", r"/free", "toy.free", lambda r: json_response(200, {}), cost=0, public=True)

    def boom(request: Request) -> Response:
        raise HttpError(json_response(418, {"code": "TEAPOT"}))

    router.add("POST", r"/boom", "toy.boom", boom)
    router.add("GET", r"/crash", "toy.crash", lambda r: json_response(200, {"x": 1 // 0}))
    return router


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    srv = SandboxServer(
        "toy", _router(), ToyDialect(), clock=FakeClock(datetime(2026, 3, 2, tzinfo=UTC)), stats=Stats(log_size=10)
    )
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    session = requests.Session()
    session.trust_env = False
    session.headers["Authorization"] = "Bearer good"
    yield session
    session.close()


def test_routes_params_and_trailing_slash(server: SandboxServer, http: requests.Session) -> None:
    """A route matches with or without the trailing slash and passes named groups."""
    assert http.get(f"{server.url}/echo/abc/").json() == {"name": "abc"}
    answer = http.get(f"{server.url}/echo/xyz")
    assert answer.json() == {"name": "xyz"}
    assert answer.headers["X-Toy"] == "toy.echo"


def test_unknown_path_404_and_wrong_method_405(server: SandboxServer, http: requests.Session) -> None:
    """Unknown paths and wrong methods get the dialect's error shape."""
    assert http.get(f"{server.url}/nope").json()["code"] == "NOT_FOUND"
    answer = http.delete(f"{server.url}/echo/a")
    assert (answer.status_code, answer.json()["code"]) == (405, "METHOD_NOT_ALLOWED")


def test_auth_http_error_and_crash(server: SandboxServer) -> None:
    """Bad tokens get 401, HttpError answers early, and a handler crash becomes a 500."""
    plain = requests.Session()
    plain.trust_env = False
    with plain:
        assert plain.get(f"{server.url}/echo/a").status_code == 401
        assert plain.get(f"{server.url}/free").status_code == 200
        good = {"Authorization": "Bearer good"}
        assert plain.post(f"{server.url}/boom", headers=good).status_code == 418
        assert plain.get(f"{server.url}/crash", headers=good).json()["code"] == "UNKNOWN_EXCEPTION"


def test_stats_count_endpoints_costs_and_quota(server: SandboxServer, http: requests.Session) -> None:
    """Every request is counted by endpoint and cost; past the quota the dialect refuses, free routes pass."""
    for _ in range(6):
        http.get(f"{server.url}/echo/a")
    http.get(f"{server.url}/free")
    snap = http.get(f"{server.url}/__sandbox/stats").json()
    assert snap["by_endpoint"] == {"toy.echo": 6, "toy.free": 1}
    assert snap["cost_by_endpoint"] == {"toy.echo": 6, "toy.free": 0}
    assert snap["by_status"] == {"200": 6, "403": 1}
    assert snap["quota_used_today"] == 6
    assert len(snap["log"]) == 7
    assert snap["log"][0]["path"] == "/echo/a"
    assert "Authorization" not in json.dumps(snap)


def test_request_faults_are_rendered_and_counted(tmp_path: Path, http: requests.Session) -> None:
    """An injected status fault answers through the dialect and shows in stats."""
    plan = FaultPlan((FaultRule(FaultKind.STATUS, endpoint="toy.echo", status=503, times=1),))
    srv = SandboxServer("toy", _router(), ToyDialect(), clock=FakeClock(datetime(2026, 3, 2, tzinfo=UTC)), faults=plan)
    with srv:
        first = http.get(f"{srv.url}/echo/a")
        second = http.get(f"{srv.url}/echo/a")
    assert (first.status_code, first.json()) == (503, {"code": "status"})
    assert second.status_code == 200
    assert srv.stats.snapshot()["faults"] == {"status": 1}


def test_slow_fault_outlasts_client_timeout(http: requests.Session) -> None:
    """A slow answer makes a client with a shorter timeout give up."""
    plan = FaultPlan((FaultRule(FaultKind.SLOW, endpoint="toy.echo", seconds=1.0, times=1),))
    srv = SandboxServer("toy", _router(), ToyDialect(), clock=FakeClock(datetime(2026, 3, 2, tzinfo=UTC)), faults=plan)
    with srv:
        with pytest.raises(requests.exceptions.ReadTimeout):
            http.get(f"{srv.url}/echo/a", timeout=0.2)
        assert http.get(f"{srv.url}/echo/a", timeout=5).status_code == 200


def test_tls_with_generated_ca(tmp_path: Path) -> None:
    """The server speaks TLS with a certificate the written ca.pem verifies; without it, SSLError."""
    ctx, ca = make_tls(tmp_path / "certs")
    srv = SandboxServer("toy", _router(), ToyDialect(), clock=FakeClock(datetime(2026, 3, 2, tzinfo=UTC)), tls=ctx)
    with srv, requests.Session() as session:
        session.trust_env = False
        assert srv.url.startswith("https://127.0.0.1:")
        session.verify = str(ca)
        assert session.get(f"{srv.url}/free").status_code == 200
        session.verify = True
        with pytest.raises(requests.exceptions.SSLError):
            session.get(f"{srv.url}/free")


def test_keep_alive_one_connection_and_nodelay(server: SandboxServer) -> None:
    """Many requests reuse one TCP connection and each answers without the ~40 ms Nagle stall."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = sock.makefile("rb")
        started = time.perf_counter()
        for _ in range(20):
            sock.sendall(b"GET /free HTTP/1.1\r\nHost: x\r\n\r\n")
            status = reader.readline()
            length = 0
            while (line := reader.readline()) != b"\r\n":
                if line.lower().startswith(b"content-length"):
                    length = int(line.split(b":")[1])
            reader.read(length)
            assert status.startswith(b"HTTP/1.1 200")
        per_request = (time.perf_counter() - started) / 20
    assert per_request < 0.03
    assert server.stats.snapshot()["by_endpoint"]["toy.free"] == 20
