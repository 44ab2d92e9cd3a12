"""Daemon test fixtures: every `crmsync run` process a test starts is killed at teardown if still running."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.daemon.procs import DaemonProcess


@pytest.fixture
def daemons() -> Iterator[list[DaemonProcess]]:
    """A list the test appends its daemon processes to; survivors are killed afterwards."""
    started: list[DaemonProcess] = []
    yield started
    for daemon in started:
        if daemon.proc.poll() is None:
            daemon.kill()
