"""``crmsync sandbox serve``: the --json first line, working servers behind it, clean stop, config errors."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.logguard import sentinel

CLI = [sys.executable, "-c", "from crmsync.cli import main; main()", "sandbox", "serve"]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    proc = subprocess.Popen(
        [*CLI, "--leads", "60", "--reps", "2", "--history-days", "10", "--seed", "4", "--json",
         "--workdir", str(tmp_path / "box")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        info = json.loads(first)
        sentinel(info.get("salesforce_token", "x" * 8))
        yield proc, info
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)


def test_json_first_line_and_servers_answer(served: tuple[subprocess.Popen[str], dict[str, str]]) -> None:
    """The first stdout line is one JSON object with the five keys, and both servers answer with them."""
    proc, info = served
    assert set(info) == {"salesforce_url", "salesforce_ca", "salesforce_token", "hubspot_url", "hubspot_token"}
    with requests.Session() as s:
        s.trust_env = False
        s.verify = info["salesforce_ca"]
        sf = s.get(f"{info['salesforce_url']}/services/data/v59.0/query/", params={"q": "SELECT COUNT() FROM Lead"},
                   headers={"Authorization": f"Bearer {info['salesforce_token']}"})  # fmt: skip
        assert sf.json()["totalSize"] == 60
        hs = s.get(f"{info['hubspot_url']}/crm/v3/objects/contacts", params={"limit": 2},
                   headers={"Authorization": f"Bearer {info['hubspot_token']}"})  # fmt: skip
        assert len(hs.json()["results"]) == 2
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert out == ""  # nothing after the first line: logs go to stderr
    assert "sandbox_server_stopped" in err


def test_missing_fault_plan_is_a_config_error(tmp_path: Path) -> None:
    """A fault plan that does not exist exits 2 with the path on stderr."""
    done = subprocess.run([*CLI, "--faults", str(tmp_path / "nope.yaml"), "--leads", "5"], capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 2
    assert "nope.yaml" in done.stderr


def test_invalid_fault_plan_is_a_config_error(tmp_path: Path) -> None:
    """A fault plan with a bad rule exits 2 naming the rule."""
    plan = tmp_path / "faults.yaml"
    plan.write_text("rules:\n  - {kind: meteor}\n")
    done = subprocess.run([*CLI, "--faults", str(plan), "--leads", "5", "--history-days", "2"], capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 2
    assert "rules[0]" in done.stderr
