"""``/healthz``, ``/readyz`` and ``/metrics`` over a small threaded HTTP server (127.0.0.1 unless configured).

- ``/healthz``: 200 while the process is alive and its loop is not wedged.
- ``/readyz``: 200 when every readiness check passes (database reachable, policy valid, last cycle recent),
  503 otherwise, with one line per failing check in the body.
- ``/metrics``: the Prometheus exposition of :data:`crmsync.daemon.metrics.REGISTRY`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from crmsync.daemon.metrics import REGISTRY


@dataclass(frozen=True, slots=True)
class Check:
    """A named readiness check: returns None when fine, or a short reason when not."""

    name: str
    run: Callable[[], str | None]


class HealthServer:
    """Serves the three endpoints in a background thread until :meth:`stop`."""

    def __init__(self, host: str, port: int, checks: Sequence[Check]) -> None:
        self._checks = tuple(checks)
        handler = _handler_for(self)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="crmsync-health", daemon=True)

    @property
    def url(self) -> str:
        """Where the server listens, e.g. ``http://127.0.0.1:9464``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> HealthServer:
        """Start serving in the background; returns self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (if started) and close the socket."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def readiness(self) -> list[str]:
        """The failing checks as ``name: reason`` lines (empty when ready). A check that raises fails."""
        failures: list[str] = []
        for check in self._checks:
            try:
                reason = check.run()
            except Exception as err:  # a readiness probe must answer, whatever the check did
                reason = f"check failed: {type(err).__name__}"
            if reason:
                failures.append(f"{check.name}: {reason}")
        return failures


def _handler_for(server: HealthServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                self._send(200, b"ok\n", "text/plain; charset=utf-8")
            elif path == "/readyz":
                failures = server.readiness()
                body = ("\n".join(failures) if failures else "ready") + "\n"
                self._send(503 if failures else 200, body.encode(), "text/plain; charset=utf-8")
            elif path == "/metrics":
                self._send(200, generate_latest(REGISTRY), CONTENT_TYPE_LATEST)
            else:
                self._send(404, b"not found\n", "text/plain; charset=utf-8")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Probes every few seconds would drown the log; stay quiet."""

    return Handler
