"""A pytest plugin: every log line of the whole suite goes through crmsync's pipeline and is checked for secrets.

Tests that handle a secret (a sandbox token, a mailbox password, a mail body) register it with
:func:`sentinel`. Every line the pipeline renders, from structlog or from a stdlib logger, is scanned; a line
that contains a registered sentinel fails the run at the end, naming the test that logged it. With xdist each
worker writes its findings to a shared folder and the controller reports them.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

import pytest

from crmsync.logging import configure_logging

_SENTINELS: set[str] = {"sentinel-secret-4f1c", "sentinel-mail-body-9d2e"}
_REPORT_DIR_VAR = "CRMSYNC_LOGGUARD_DIR"
_current_test = ["<collection>"]
_violations: list[str] = []


def sentinel(value: str) -> str:
    """Register ``value`` as something that must never appear in a log line; returns it for convenience."""
    if len(value) >= 6:
        _SENTINELS.add(value)
    return value


class ScanningStream(io.TextIOBase):
    def write(self, text: str) -> int:
        for secret in _SENTINELS:
            if secret in text:
                _violations.append(f"{_current_test[0]}: a log line contains a registered secret")
        return len(text)

    def isatty(self) -> bool:
        return False


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):
        os.environ.setdefault(_REPORT_DIR_VAR, tempfile.mkdtemp(prefix="crmsync-logguard-"))
    configure_logging(level="debug", fmt="json", stream=ScanningStream())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> object:
    _current_test[0] = item.nodeid
    try:
        return (yield)
    finally:
        _current_test[0] = "<between tests>"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    folder = Path(os.environ.get(_REPORT_DIR_VAR, tempfile.gettempdir()))
    if hasattr(session.config, "workerinput"):
        if _violations:
            name = f"worker-{session.config.workerinput['workerid']}.json"
            (folder / name).write_text(json.dumps(sorted(set(_violations))))
        return
    found = set(_violations)
    for report in folder.glob("worker-*.json"):
        found.update(json.loads(report.read_text()))
        report.unlink()
    if found:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = "\n".join(f"  {v}" for v in sorted(found))
        message = f"secrets leaked into log lines:\n{lines}\n"
        if reporter is not None:
            reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
