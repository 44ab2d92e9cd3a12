"""Renderers: the sample week's report as terminal text, CSV, JSON and HTML, pinned by golden files."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from crmsync.reports.compute import Report, build_report
from crmsync.reports.render_csv import render_csv
from crmsync.reports.render_html import render_html
from crmsync.reports.render_json import render_json
from crmsync.reports.render_terminal import render_terminal
from tests.reports import sample
from tests.reports.golden import check_golden


@pytest.fixture(scope="module")
def report() -> Report:
    """The sample week's report."""
    return build_report(sample.histories(), sample.REPS, sample.rules(), sample.PERIOD, sample.NOW)


def test_terminal_golden(report: Report) -> None:
    """The terminal tables render exactly as the golden text (no colour codes)."""
    check_golden("sample.txt", render_terminal(report))


def test_csv_golden(report: Report) -> None:
    """The CSV renders exactly as the golden file."""
    check_golden("sample.csv", render_csv(report))


def test_json_golden(report: Report) -> None:
    """The JSON renders exactly as the golden file."""
    check_golden("sample.json", render_json(report))


def test_html_golden(report: Report) -> None:
    """The HTML page renders exactly as the golden file."""
    check_golden("sample.html", render_html(report))


def test_json_has_the_contract_keys(report: Report) -> None:
    """The JSON object has period, reps, teams, sources, capacity, and each rep the keys other tools rely on."""
    data = json.loads(render_json(report))
    assert {"period", "reps", "teams", "sources", "capacity"} <= data.keys()
    ana = next(r for r in data["reps"] if r["email"] == "ana@acme.test")
    assert ana["mqls_assigned"] == 5
    assert ana["worked_within_sla_pct"] == 80.0
    assert ana["median_first_touch_business_minutes"] == 30.0
    assert ana["touches_per_lead"] == 1.2
    assert ana["cherry_pick_index"] == 0.75
    assert ana["cherry_pick_interval"] == [0.301, 1.868]
    assert ana["touch_gini"] == 0.133
    ben = next(r for r in data["reps"] if r["email"] == "ben@acme.test")
    assert ben["cherry_pick_index"] is None
    assert ben["cherry_pick_interval"] is None
    assert data["capacity"][0]["days"][2] == {
        "date": "2026-03-04", "business_day": True, "inflow": 2, "capacity": 1.0, "backlog": 1.0,
    }  # fmt: skip


def test_csv_parses_with_one_row_per_group(report: Report) -> None:
    """Every rep, team, source, campaign and the totals get one CSV row with the same columns."""
    rows = list(csv.DictReader(io.StringIO(render_csv(report))))
    assert [(r["dimension"], r["key"]) for r in rows] == [
        ("rep", "ana@acme.test"), ("rep", "ben@acme.test"), ("team", "sdr"), ("source", "Trade Show"),
        ("source", "Web"), ("campaign", "expo"), ("campaign", "spring"), ("total", "all"),
    ]  # fmt: skip
    assert rows[1]["disposition:No budget"] == "1"
    assert rows[0]["cherry_pick_low"] == "0.301"


def test_html_is_self_contained(report: Report) -> None:
    """The page loads nothing: no scripts, no external URLs, a CSP forbidding network loads."""
    page = render_html(report)
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "default-src 'none'" in page
    for section in ("summary", "sla-by-rep", "first-touch", "cherry-pick", "capacity", "dispositions", "reps"):
        assert f'<section id="{section}">' in page


def test_html_escapes_names() -> None:
    """A rep name or source with markup is shown as text, never as HTML."""
    rep = sample.REPS[0].__class__("005X", "x<b>@acme.test", "<script>alert(1)</script>")
    hist = sample.histories()[1]
    lead = hist.lead.__class__("L9", "005X", sample.at(1, 8), source="<img src=x>")
    from crmsync.reports.compute import AssignmentFacts, LeadHistory

    history = LeadHistory(lead, (AssignmentFacts("L9", "005X", None, "route", sample.at(2, 10)),))
    page = render_html(build_report([history], [rep], sample.rules(), sample.PERIOD, sample.NOW))
    assert "<img src=x>" not in page
    assert "x&lt;b&gt;@acme.test" in page


def test_no_index_reasons_and_wide_interval_axis() -> None:
    """A rep with no lead worked in time is told apart from a small sample; a wide interval widens the axis."""
    from crmsync.reports import svg, text
    from crmsync.reports.compute import CherryPick

    idle = CherryPick(None, None, None, 29, 0, 51, 0, flagged=False, corrected=False)
    few = CherryPick(None, None, None, 3, 1, 40, 9, flagged=False, corrected=False)
    assert text.cherry(idle, 20) == "— (none in time)"
    assert text.cherry(few, 20) == "— (n 3/40)"
    assert text.no_index_reason(few, 20) == "below the minimum sample (n 3/40)"
    chart = svg.interval_chart("c", "t", [svg.IntervalRow("x", 72.1, 4.5, 1152.2, True)])
    assert '">1024</text>' in chart
    assert '">1</text>' in chart
    assert 'data-flagged="true"' in chart
