"""``crmsync run``: the daemon. Runs every configured connection's cycle on a schedule until SIGTERM/SIGINT.

Start-up: settings (``CRMSYNC_*`` and the settings file), logging with every connection secret registered
for redaction, the database (its schema must be at the migrations' head: ``crmsync db upgrade``), the
policy (a broken file refuses to start; later broken edits are refused and the last good one kept), the
health server (``/healthz``, ``/readyz``, ``/metrics``; its address is logged as ``health_listening``).

Signals: the first SIGTERM or SIGINT stops new work; the cycle in flight finishes its current batch (rows
not applied are released), leases are released and the process exits 0 within ``shutdown_grace_s``. A
second signal exits at once with code 1: every write is a committed transaction or none, and leased outbox
rows come back when their lease expires, so nothing is corrupted.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType

import structlog

from crmsync.daemon.health import HealthServer
from crmsync.daemon.service import CaptureJob, Daemon
from crmsync.errors import ConfigError
from crmsync.logging import configure_logging
from crmsync.runtime import Runtime
from crmsync.settings import Settings, load_settings

log = structlog.get_logger(__name__)

EXIT_AT_ONCE = 1


def run() -> None:
    """Run the daemon until SIGTERM or SIGINT (exit 0 after a clean stop)."""
    stop = threading.Event()
    _install_signals(stop)
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format, secrets=_secrets(settings))
    if not settings.connections:
        raise ConfigError(["no connection is configured: add one under `connections:` in the settings file"])
    _require_schema(settings.database_url)
    runtime = Runtime.from_settings(settings, stop=stop)
    executor = Daemon.pool(runtime)
    daemon = Daemon.create(runtime, executor=executor, capture=_capture_job(settings))
    health = _start_health(settings, daemon)
    try:
        if not stop.is_set():
            daemon.start()
            daemon.scheduler.run()
    finally:
        clean = daemon.shutdown()
        executor.shutdown(wait=False, cancel_futures=True)
        if health is not None:
            health.stop()
        runtime.close()
    if not clean:
        log.warning("shutdown_grace_exceeded", grace_s=settings.shutdown_grace_s)


def _secrets(settings: Settings) -> list[str]:
    """Every connection secret's value, for the log redactor."""
    found: list[str] = []
    for connection in settings.connections:
        for block in (connection.salesforce, connection.hubspot):
            if block is None:
                continue
            for value in block.model_dump().values():
                if hasattr(value, "get_secret_value"):
                    found.append(value.get_secret_value())
    return found


def _require_schema(url: str) -> None:
    from crmsync.store import migrate

    current, head = migrate.current(url), migrate.head()
    if current != head:
        raise ConfigError([f"database schema is at {current or 'nothing'}, not {head}: run `crmsync db upgrade`"])


def _capture_job(settings: Settings) -> CaptureJob | None:
    """Capture's pass (:func:`crmsync.capture.job.run_capture`) when ``capture.sources`` lists any source."""
    if not settings.capture.sources:
        return None
    from crmsync.capture.job import check_sources, run_capture

    check_sources(settings.capture, [c.name for c in settings.connections])
    return run_capture


def _start_health(settings: Settings, daemon: Daemon) -> HealthServer | None:
    if not settings.health.enabled:
        return None
    try:
        server = HealthServer(settings.health.host, settings.health.port, daemon.checks()).start()
    except OSError as err:
        raise ConfigError(
            [f"CRMSYNC_HEALTH__PORT: cannot listen on {settings.health.host}:{settings.health.port}: {err.strerror}"]
        ) from err
    log.info("health_listening", url=server.url)
    return server


def _install_signals(stop: threading.Event) -> None:
    """First SIGTERM/SIGINT: set ``stop``. Second: exit at once (committed state stays consistent)."""

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            sys.stderr.write("second signal: exiting at once\n")
            os._exit(EXIT_AT_ONCE)
        log.info("stop_requested", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
