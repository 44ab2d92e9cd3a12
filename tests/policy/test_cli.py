"""`crmsync policy validate` and `crmsync policy schema`: output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmsync.cli import app
from crmsync.policy.schema import render_schema

ROOT = Path(__file__).resolve().parents[2]


def crmsync(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run the command line as an operator would."""
    return subprocess.run(
        [sys.executable, "-m", "crmsync", *args], capture_output=True, text=True, check=False, timeout=60, cwd=cwd
    )


def test_validate_default_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without arguments the shipped config/policies.yaml is checked: one summary line, exit 0."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("CRMSYNC_POLICY_FILE", raising=False)
    result = CliRunner().invoke(app, ["policy", "validate"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("config/policies.yaml: valid (hash ")
    assert result.stdout.endswith("2 teams, 5 reps, 3 routing rules, 2 SLA tiers\n")


def test_validate_reports_every_problem(tmp_path: Path, policy_text: str) -> None:
    """Broken files exit 2 with one located problem per stderr line; valid files still get their summary."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(policy_text.replace("team: events}", "team: evnts}").replace("touches: 6", "touches: 4"))
    good = tmp_path / "good.yaml"
    good.write_text(policy_text)
    done = crmsync("policy", "validate", str(bad), str(good))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"{bad}:11:93: routing[0].team: unknown team 'evnts' (did you mean 'events'?); teams: events, sdr",
        f"{bad}:17:47: sla[0].follow_up.mix: the mix needs 5 touches (2 calls + 3 emails) but touches is 4",
    ]
    assert done.stdout.startswith(f"{good}: valid")


def test_validate_missing_file(tmp_path: Path) -> None:
    """A file that does not exist is a located problem and exit 2."""
    done = crmsync("policy", "validate", str(tmp_path / "nope.yaml"))
    assert done.returncode == 2
    assert done.stderr == f"{tmp_path / 'nope.yaml'}:1:1: cannot read the policy file: No such file or directory\n"


def test_schema_command() -> None:
    """`crmsync policy schema` prints the JSON Schema that is committed in config/."""
    result = CliRunner().invoke(app, ["policy", "schema"])
    assert result.exit_code == 0
    assert result.stdout == render_schema()
    assert json.loads(result.stdout)["title"] == "crmsync policy"
