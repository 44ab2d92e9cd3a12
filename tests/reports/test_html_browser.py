"""The HTML report opened in headless Chromium: its charts and figures are in the rendered DOM.

Chromium is Debian's ``chromium`` (``scripts/test-services`` installs it). Without it the test skips, except
under ``CI=true``, where it fails. The screenshot is kept in ``test-artifacts/reports/`` for a human to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from crmsync.reports.compute import build_report
from crmsync.reports.render_html import render_html
from tests.reports import sample

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "reports"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--hide-scrollbars", "--window-size=1100,2600",
)  # fmt: skip


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but chromium is not installed (scripts/test-services installs it)")
        pytest.skip("chromium is not installed; run scripts/test-services")
    return found


class _Marks(HTMLParser):
    """Collects the attributes of every element that carries ``data-*`` figures, by tag and class."""

    def __init__(self) -> None:
        super().__init__()
        self.marks: list[tuple[str, dict[str, str | None]]] = []
        self.svg_ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "svg" and found.get("id"):
            self.svg_ids.append(str(found["id"]))
        if any(name.startswith("data-") for name in found):
            self.marks.append((f"{tag}.{found.get('class') or ''}", found))


@pytest.mark.browser
def test_html_report_renders_charts_and_figures_in_chromium(tmp_path: Path) -> None:
    """Chromium renders all five charts with the sample week's figures, and a screenshot is written."""
    chromium = _chromium()
    report = build_report(sample.histories(), sample.REPS, sample.rules(), sample.PERIOD, sample.NOW)
    page = tmp_path / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    base = [chromium, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*base, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120, check=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "weekly-report.png"
    shot.unlink(missing_ok=True)
    subprocess.run([*base, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120, check=True)

    parser = _Marks()
    parser.feed(dom.stdout)
    assert {"chart-sla", "chart-first-touch", "chart-cherry-pick", "chart-capacity-0", "chart-dispositions"} <= set(
        parser.svg_ids
    )
    bars = {(m.get("data-label"), m.get("data-value")) for tag, m in parser.marks if tag == "rect.bar"}
    assert {("ana@acme.test", "80.0"), ("ben@acme.test", "50.0"), ("15–60 min", "4")} <= bars
    points = [m for tag, m in parser.marks if tag == "circle.point"]
    assert [(p["data-label"], p["data-value"], p["data-low"], p["data-high"]) for p in points] == [
        ("ana@acme.test", "0.750", "0.301", "1.868")
    ]
    days = [m for tag, m in parser.marks if tag == "rect.bar" and m.get("data-day")]
    assert [(d["data-day"], d["data-value"]) for d in days][:3] == [
        ("2026-03-02", "1"), ("2026-03-03", "1"), ("2026-03-04", "2"),
    ]  # fmt: skip
    segments = [m for tag, m in parser.marks if tag == "rect.segment"]
    assert [(s["data-label"], s["data-category"], s["data-value"]) for s in segments] == [("Web", "No budget", "1")]
    assert re.search(r"<b>71\.4 %</b>\s*<span>worked within SLA</span>", dom.stdout)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000
