"""CLI tests drive the commands in-process against a controlled sandbox floor (see ``tests/sync/conftest.py``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from crmsync.cli import app
from crmsync.cli.common import run_guarded
from crmsync.logging import configure_logging
from tests.logguard import ScanningStream
from tests.sync.conftest import Floor, make_floor  # noqa: F401 - the floor factory fixture, shared with tests/sync

Run = Callable[..., tuple[int, str, str]]


def write_settings(tmp_path: Path, floor: Floor | None, *, db_url: str | None = None) -> Path:
    """A settings file naming the floor's database, policy and connection (none when ``floor`` is None)."""
    policy = tmp_path / "policies.yaml"
    settings: dict[str, object] = {"database_url": db_url or (floor.db_url if floor else f"sqlite:///{tmp_path}/x.db")}
    if floor is not None:
        policy.write_text(floor.policy_source, encoding="utf-8")
        settings.update(policy_file=str(policy), connections=[floor.raw_settings])
    path = tmp_path / "crmsync.yaml"
    path.write_text(json.dumps(settings), encoding="utf-8")  # JSON is YAML
    return path


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run ``crmsync <args>`` with a settings file; return (exit code, stdout, stderr)."""

    def run(settings: Path, *args: str) -> tuple[int, str, str]:
        monkeypatch.setenv("CRMSYNC_SETTINGS_FILE", str(settings))
        monkeypatch.setenv("COLUMNS", "200")
        capsys.readouterr()
        try:
            code = run_guarded(app, list(args))
        finally:  # the command sent log lines to (captured) stderr: give them back to the suite's log guard
            configure_logging(level="debug", fmt="json", stream=ScanningStream())
        out, err = capsys.readouterr()
        ScanningStream().write(out + err)  # what the command printed or logged must not hold a secret either
        return code, out, err

    return run
