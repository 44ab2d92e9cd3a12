"""``crmsync sync|plan|apply|explain`` against a sandbox CRM, configured through a settings file."""

from __future__ import annotations

import json
from pathlib import Path

from crmsync.domain import Vendor
from crmsync.store import migrate
from crmsync.store.repositories import leads
from crmsync.store.repositories import outbox as outbox_rows
from tests.cli.conftest import Run, write_settings
from tests.sync.conftest import FloorFactory


def test_commands_without_a_connection_exit_2_with_a_clear_message(tmp_path: Path, run_cli: Run) -> None:
    """plan, apply, sync and explain refuse to run without a configured connection (exit 2, message on stderr)."""
    settings = write_settings(tmp_path, None)
    migrate.upgrade(f"sqlite:///{tmp_path}/x.db")
    for args in (["plan"], ["apply"], ["sync", "--once"], ["explain", "00Q1"]):
        code, _, err = run_cli(settings, *args)
        assert code == 2, args
        assert "no connection is configured" in err


def test_sync_needs_once(tmp_path: Path, run_cli: Run, make_floor: FloorFactory) -> None:
    """``crmsync sync`` without --once is a usage error (the daemon is ``crmsync run``)."""
    settings = write_settings(tmp_path, make_floor(Vendor.HUBSPOT))
    code, _, err = run_cli(settings, "sync")
    assert code == 2
    assert "--once" in err


def test_plan_json_lists_would_be_actions_and_writes_nothing(
    tmp_path: Path, run_cli: Run, make_floor: FloorFactory
) -> None:
    """plan --json shows the hide with its reason; the outbox, the lead state and the CRM stay untouched."""
    floor = make_floor(Vendor.HUBSPOT)
    lead = floor.lead(score=42, owner="ana")
    code, out, _ = run_cli(write_settings(tmp_path, floor), "plan", "--json")
    assert code == 0
    document = json.loads(out)
    assert document["connection"] == "floor"
    assert [(a["lead_id"], a["kind"], a["owner"], a["reason"]) for a in document["actions"]] == [
        (lead, "hide", "queue:Holding Queue", "not MQL: score 42 < 60")
    ]
    assert floor.owner_of(lead) == floor.reps["ana"]
    with floor.db.transaction() as session:
        assert outbox_rows.find(session) == []
        stored = next(leads.leads_by_ids(session, "floor", [lead]))
    assert stored.state["state"] is None


def test_plan_table_and_no_pull(tmp_path: Path, run_cli: Run, make_floor: FloorFactory) -> None:
    """The table names lead, kind, target and reason; --no-pull decides only what the store already has."""
    floor = make_floor(Vendor.HUBSPOT)
    settings = write_settings(tmp_path, floor)
    code, out, _ = run_cli(settings, "plan", "--no-pull")
    assert code == 0
    assert "0 leads decided" in out
    lead = floor.lead(score=42, owner="ana")
    code, out, _ = run_cli(settings, "plan")
    assert code == 0
    assert lead in out
    assert "hide" in out
    assert "not MQL: score 42 < 60" in out
    assert "1 leads decided, 1 actions" in out


def test_apply_runs_one_cycle_and_explain_tells_the_story(
    tmp_path: Path, run_cli: Run, make_floor: FloorFactory
) -> None:
    """apply hides the non-MQL and says so; explain shows the state, the owners, the audit row and what is next."""
    floor = make_floor(Vendor.HUBSPOT)
    lead = floor.lead(score=42, owner="ana")
    settings = write_settings(tmp_path, floor)
    code, out, _ = run_cli(settings, "apply")
    assert code == 0, out
    assert "applied 1" in out
    assert floor.owner_of(lead) == floor.queue
    code, out, _ = run_cli(settings, "explain", lead)
    assert code == 0, out
    assert f"lead floor/{lead}" in out
    assert "stored state: hidden" in out
    assert "qualification: not MQL: score 42 < 60" in out
    assert "owners" in out
    assert "audit trail" in out
    assert "outbox: nothing waiting (1 finished rows)" in out


def test_explain_an_unknown_lead_fails(tmp_path: Path, run_cli: Run, make_floor: FloorFactory) -> None:
    """explain of a lead the store does not hold exits 1 and says how to get it."""
    settings = write_settings(tmp_path, make_floor(Vendor.HUBSPOT))
    code, _, err = run_cli(settings, "explain", "nope")
    assert code == 1
    assert "not in the local store" in err


def test_sync_once_pull_only_then_full(tmp_path: Path, run_cli: Run, make_floor: FloorFactory) -> None:
    """sync --once --pull-only stores the leads without acting; sync --once then acts on them."""
    floor = make_floor(Vendor.SALESFORCE)
    lead = floor.lead(score=42, owner="ana")
    settings = write_settings(tmp_path, floor)
    code, out, _ = run_cli(settings, "sync", "--once", "--pull-only")
    assert code == 0
    assert "pulled" in out
    assert "1 leads" in out
    assert floor.owner_of(lead) == floor.reps["ana"]
    code, out, _ = run_cli(settings, "sync", "--once")
    assert code == 0, out
    assert "decided 1 leads" in out
    assert floor.owner_of(lead) == floor.queue


def test_explain_shows_the_sla_clock_and_the_touches_of_an_owned_mql(
    tmp_path: Path, run_cli: Run, make_floor: FloorFactory
) -> None:
    """For an MQL a rep owns, explain prints the clock, the first-touch deadline, the next event and the touches."""
    floor = make_floor(Vendor.HUBSPOT)
    lead = floor.lead(score=80, owner="ana")
    floor.touch(lead, "ana")
    settings = write_settings(tmp_path, floor)
    assert run_cli(settings, "sync", "--once")[0] == 0
    code, out, _ = run_cli(settings, "explain", lead)
    assert code == 0, out
    assert "SLA tier: std (owner's time zone UTC)" in out
    assert "clock started:" in out
    assert "first touch: due" in out
    assert "next: breach: no first touch at" in out
    assert "touches and replies" in out
    assert "outbound" in out


def test_sync_once_goes_on_after_a_failing_connection(tmp_path: Path, run_cli: Run, make_floor: FloorFactory) -> None:
    """A connection that cannot log in is reported (exit 1) and the next connection still runs its cycle."""
    floor = make_floor(Vendor.HUBSPOT)
    lead = floor.lead(score=42, owner="ana")
    settings = write_settings(tmp_path, floor)
    data = json.loads(settings.read_text())
    broken = {
        **floor.raw_settings,
        "name": "broken",
        "hubspot": {**floor.raw_settings["hubspot"], "token": "pat-wrong-1"},
    }
    data["connections"] = [broken, floor.raw_settings]
    settings.write_text(json.dumps(data))
    code, out, err = run_cli(settings, "sync", "--once")
    assert code == 1
    assert "broken: error:" in err
    assert "floor: pulled 1 leads" in out
    assert floor.owner_of(lead) == floor.queue
