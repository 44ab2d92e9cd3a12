"""The demo: its policy fits the sandbox org, and on the same seed crmsync gets more MQLs worked in time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmsync.cli import app
from crmsync.demo.runner import DEMO_POLICY
from crmsync.policy.loader import load_policy
from crmsync.sandbox.people import make_reps
from crmsync.sandbox.schema import SF_LEAD_STATUSES

KEYS = {
    "mqls",
    "touched_within_sla_pct",
    "never_touched",
    "median_first_touch_business_minutes",
    "reassignments",
    "recycled",
    "pipeline",
}


def test_demo_policy_matches_the_sandbox_org() -> None:
    """config/demo-policy.yaml loads, names every sandbox rep, the sandbox's holding queue and Lead statuses."""
    policy = load_policy(DEMO_POLICY)
    members = {m.email for team in policy.teams.values() for m in team.members}
    assert members == {rep.email for rep in make_reps(8)}
    assert policy.qualification.holding_owner == "queue:Lead Holding"
    assert policy.on_breach.recycle.status in SF_LEAD_STATUSES
    assert set(policy.dispositions.closed_statuses) <= set(SF_LEAD_STATUSES)


@pytest.mark.slow
def test_with_crmsync_more_mqls_are_touched_within_sla(tmp_path: Path) -> None:
    """A short `crmsync demo --json` run ends with both runs' figures; with crmsync the SLA share is higher."""
    result = CliRunner().invoke(app, ["demo", "--weeks", "1", "--seed", "3", "--json", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(figures) == {"without", "with"}
    assert set(figures["without"]) == KEYS
    assert set(figures["with"]) == KEYS
    assert figures["with"]["mqls"] == figures["without"]["mqls"] > 0
    assert figures["with"]["touched_within_sla_pct"] > figures["without"]["touched_within_sla_pct"]
    assert figures["without"]["reassignments"] == 0
    assert (tmp_path / "crmsync-demo.db").is_file()
    assert list(tmp_path.glob("crmsync-report-*.html"))
