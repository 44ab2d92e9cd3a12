"""Reports read from the store (SQLite and PostgreSQL): the loader, the weekly page and ``crmsync report``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmsync.cli import app
from crmsync.policy.loader import parse_policy
from crmsync.policy.model import Policy
from crmsync.reports.compute import LeadHistory, build_report
from crmsync.reports.period import weekly
from crmsync.reports.weekly import report_from_store, write_weekly_report
from crmsync.store.session import Database
from crmsync.store.tables import ActivityRow, AssignmentRow, Base, LeadRow, RepRow
from tests.reports import sample

POLICY = """\
version: 1
calendar: {timezone: UTC, workdays: [mon, tue, wed, thu, fri], hours: "09:00-17:00"}
fields: {lead_source: LeadSource}
qualification:
  mql_when: {field: Score, gte: 60}
  holding_owner: "queue:Marketing Nurture"
teams:
  sdr: {members: [ana@acme.test, ben@acme.test], capacity: {leads_per_day: 1}}
routing:
  - {name: everyone, team: sdr}
sla:
  - {name: default, first_touch: 1h}
dispositions:
  closed_statuses: [Unqualified, Recycled]
  reasons: [No budget, Unresponsive]
  min_touches_before_close: 5
reports: {attractive: {field: Title, matches: "^VP"}, min_sample: 2}
"""


def _store(db: Database, histories: list[LeadHistory]) -> None:
    with db.transaction() as session:
        for rep in sample.REPS:
            session.add(RepRow(connection="default", owner_id=rep.owner_id, kind=rep.kind, name=rep.name,
                               email=rep.email, active=True, timezone=rep.timezone, updated_at=sample.NOW))  # fmt: skip
        for h in histories:
            lead = h.lead
            fields = {**lead.fields, "LeadSource": lead.source, "Campaign": lead.campaign}
            session.add(LeadRow(connection="default", lead_id=lead.lead_id, owner_id=lead.owner_id,
                                created_at=lead.created_at, modified_at=lead.created_at, fields=fields, mql=True,
                                status=lead.status, closed_at=lead.closed_at, disposition=lead.disposition,
                                updated_at=sample.NOW))  # fmt: skip
            for a in h.assignments:
                session.add(AssignmentRow(connection="default", lead_id=a.lead_id, owner_id=a.owner_id,
                                          previous_owner_id=a.previous_owner_id, kind=a.kind, rule=a.rule,
                                          reason=a.reason, at=a.at))  # fmt: skip
            for i, t in enumerate(h.activities):
                session.add(ActivityRow(connection="default", key=f"{lead.lead_id}-{i}", lead_id=t.lead_id,
                                        owner_id=t.owner_id, channel=t.channel, direction=t.direction,
                                        occurred_at=t.occurred_at, source="crm", automated=t.automated,
                                        duration_minutes=t.duration_minutes))  # fmt: skip


@pytest.fixture
def policy() -> Policy:
    """The sample org's policy as a file would give it."""
    return parse_policy(POLICY, "policies.yaml")


@pytest.fixture
def database(db_url: str) -> Database:
    """A database holding the sample week."""
    db = Database(db_url)
    Base.metadata.create_all(db.engine)
    _store(db, sample.histories())
    return db


def test_report_from_store_matches_the_facts_it_was_built_from(database: Database, policy: Policy) -> None:
    """Loading the sample week from the store gives the same figures as computing on the facts directly."""
    try:
        stored = report_from_store(database, policy, sample.PERIOD, sample.NOW)
    finally:
        database.dispose()
    direct = build_report(sample.histories(), sample.REPS, sample.rules(), sample.PERIOD, sample.NOW)
    assert [r.figures for r in stored.reps] == [r.figures for r in direct.reps]
    assert [r.cherry_pick for r in stored.reps] == [r.cherry_pick for r in direct.reps]
    assert [r.owner_id for r in stored.reps] == ["default:005A", "default:005B"]
    assert (stored.teams, stored.sources, stored.campaigns) == (direct.teams, direct.sources, direct.campaigns)
    assert [d.inflow for d in stored.capacity[0].days] == [d.inflow for d in direct.capacity[0].days]


def test_write_weekly_report_writes_one_html_page(database: Database, policy: Policy, tmp_path: Path) -> None:
    """The weekly page for the seven days up to ``now`` lands in the folder, named after its period."""
    now = sample.PERIOD.end
    try:
        path = write_weekly_report(database, policy, now, tmp_path / "reports")
    finally:
        database.dispose()
    assert path.name == "crmsync-report-2026-03-02_to_2026-03-09.html"
    assert weekly(now) == sample.PERIOD
    page = path.read_text(encoding="utf-8")
    # As of Monday 00:00, Ana's Friday lead is still untouched (missed) and Saturday's is not yet due (pending).
    assert 'data-label="ana@acme.test" data-value="75.0"' in page
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_cli_report_json_over_a_date_range(database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``crmsync report --from --to --format json --out`` writes the JSON object for those days."""
    database.dispose()
    policy_file = tmp_path / "policies.yaml"
    policy_file.write_text(POLICY, encoding="utf-8")
    monkeypatch.setenv("CRMSYNC_DATABASE_URL", str(database.engine.url.render_as_string(hide_password=False)))
    monkeypatch.setenv("CRMSYNC_POLICY_FILE", str(policy_file))
    out = tmp_path / "week.json"
    result = CliRunner().invoke(
        app, ["report", "--from", "2026-03-02", "--to", "2026-03-08", "--format", "json", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["period"]["start"] == "2026-03-02T00:00:00+00:00"
    assert data["period"]["end"] == "2026-03-09T00:00:00+00:00"
    assert {r["email"]: r["mqls_assigned"] for r in data["reps"]} == {"ana@acme.test": 5, "ben@acme.test": 2}


@pytest.mark.parametrize(
    "args",
    [["--since", "7d", "--from", "2026-03-02", "--to", "2026-03-08"], ["--from", "2026-03-02"], ["--since", "x"]],
    ids=["since-and-range", "from-without-to", "bad-since"],
)
def test_cli_report_rejects_bad_periods(args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Conflicting or malformed period options are usage errors (exit 2), before any database is touched."""
    policy_file = tmp_path / "policies.yaml"
    policy_file.write_text(POLICY, encoding="utf-8")
    monkeypatch.setenv("CRMSYNC_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    monkeypatch.setenv("CRMSYNC_POLICY_FILE", str(policy_file))
    from crmsync.cli.common import run_guarded

    monkeypatch.setattr("sys.argv", ["crmsync", "report", *args])
    assert run_guarded(app) == 2
    assert not (tmp_path / "none.db").exists()


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("table", "ana@acme.test"), ("csv", "rep,ana@acme.test,5,5,4,80.0"), ("html", '<section id="cherry-pick">')],
    ids=["table", "csv", "html"],
)
def test_cli_report_prints_each_format(
    fmt: str, expected: str, database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ``--out`` the report goes to standard output in the chosen format."""
    database.dispose()
    policy_file = tmp_path / "policies.yaml"
    policy_file.write_text(POLICY, encoding="utf-8")
    monkeypatch.setenv("CRMSYNC_DATABASE_URL", str(database.engine.url.render_as_string(hide_password=False)))
    monkeypatch.setenv("CRMSYNC_POLICY_FILE", str(policy_file))
    args = ["report", "--from", "2026-03-02", "--to", "2026-03-08", "--format", fmt]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert expected in result.output
