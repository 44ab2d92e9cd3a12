"""The report as one self-contained HTML page: inline CSS and SVG, no scripts, nothing fetched.

A Content-Security-Policy meta tag forbids every network load, so the page shows the same offline, in a mail
attachment or in a sandboxed browser. Sections (each an element with an id the tests look for):
``summary``, ``sla-by-rep``, ``first-touch``, ``cherry-pick``, ``capacity``, ``dispositions``, ``reps``.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from crmsync.reports import svg, text
from crmsync.reports.compute import GroupFigures, Report

CSS = """
body{font:14px/1.45 system-ui,sans-serif;color:#222;margin:24px auto;max-width:1100px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:28px 0 6px;border-bottom:1px solid #ddd;padding-bottom:4px}
p.note{color:#555;margin:4px 0 10px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:14px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:140px}
.card b{display:block;font-size:22px}
.card span{color:#555;font-size:12px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;margin:8px 0;font-size:12px}
th,td{border-bottom:1px solid #eee;padding:3px 7px;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
th{background:#f6f6f6}
tr.flagged td{background:#fdecea}
svg.chart{display:block;margin:6px 0;max-width:100%;height:auto}
svg .t{font-size:12px;fill:#333}
svg .muted{font-size:11px;fill:#777}
"""
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def render_html(report: Report, title: str = "crmsync weekly report") -> str:
    """The whole page as a string (UTF-8, ending with a newline)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)} {escape(text.period_title(report))}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="note">{escape(text.period_title(report))}; figures as of {escape(report.as_of.isoformat())}. '
        "Times to first touch are business time in each owner's calendar.</p>",
        _summary(report),
        _sla(report),
        _first_touch(report),
        _cherry(report),
        _capacity(report),
        _dispositions(report),
        _reps(report),
        _groups("teams", "Teams", "team", report.teams),
        _groups("sources", "Sources", "source", report.sources),
        _groups("campaigns", "Campaigns", "campaign", report.campaigns),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _card(value: str, label: str, name: str) -> str:
    return f'<div class="card" data-figure="{name}"><b>{escape(value)}</b><span>{escape(label)}</span></div>'


def _summary(report: Report) -> str:
    t = report.totals
    overflow = sum(c.overflow for c in report.capacity)
    cards = [
        _card(str(t.mqls_delivered), "MQLs delivered", "mqls_delivered"),
        _card(str(t.mqls_assigned), "MQLs assigned to reps", "mqls_assigned"),
        _card(text.pct(t.worked_within_sla_pct), "worked within SLA", "worked_within_sla_pct"),
        _card(text.minutes(t.median_first_touch_business_minutes), "median time to first touch", "median_first_touch"),
        _card(text.number(t.touches_per_lead, 2), "touches per lead", "touches_per_lead"),
        _card(str(t.stale_mqls), "stale MQLs (a week old, still open)", "stale_mqls"),
        _card(text.number(overflow), "leads over team capacity", "overflow"),
    ]
    return f'<section id="summary"><div class="cards">{"".join(cards)}</div></section>'


def _section(section_id: str, heading: str, note: str, *body: str) -> str:
    return "\n".join(
        [f'<section id="{section_id}">', f"<h2>{escape(heading)}</h2>", f'<p class="note">{escape(note)}</p>', *body]
    ) + "\n</section>"  # fmt: skip


def _sla(report: Report) -> str:
    rows = [(r.email, r.figures.worked_within_sla_pct) for r in report.reps]
    chart = svg.bar_chart("chart-sla", "Worked within SLA per rep (%)", rows, 100.0, " %")
    note = "Share of the leads assigned in the period whose first touch came by the SLA deadline."
    return _section("sla-by-rep", "SLA compliance per rep", note, chart)


def _first_touch(report: Report) -> str:
    t = report.totals
    note = (
        f"Business time from assignment to the owner's first touch. Median "
        f"{text.minutes(t.median_first_touch_business_minutes)}, 90th percentile "
        f"{text.minutes(t.p90_first_touch_business_minutes)}, over {t.first_touches} first touches."
    )
    chart = svg.histogram("chart-first-touch", "Time to first touch", report.first_touch_histogram)
    return _section("first-touch", "Time to first touch", note, chart)


def _cherry(report: Report) -> str:
    rows = [
        svg.IntervalRow(
            r.email,
            r.cherry_pick.index,
            r.cherry_pick.low,
            r.cherry_pick.high,
            r.cherry_pick.flagged,
            text.no_index_reason(r.cherry_pick, report.min_sample),
        )
        for r in report.reps
    ]
    note = (
        "Touch rate within SLA on attractive leads divided by the rate on the rest: 1.0 is even-handed. "
        "Lines are 95 % intervals (Katz, log scale); red when the whole interval lies above 1. "
        f"Reps with fewer than {report.min_sample} leads in either segment get no index."
    )
    chart = svg.interval_chart("chart-cherry-pick", "Cherry-pick index with 95 % intervals", rows)
    return _section("cherry-pick", "Cherry-pick index", note, chart)


def _table(headers: Sequence[str], rows: Sequence[tuple[str, Sequence[str]]]) -> str:
    """A table; each row is (attributes for its ``<tr>``, cells); every text is escaped here."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(f"<tr{attrs}>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>" for attrs, cells in rows)
    return f'<div class="scroll"><table><tr>{head}</tr>{body}</table></div>'


def _capacity(report: Report) -> str:
    charts = [svg.capacity_chart(f"chart-capacity-{i}", team) for i, team in enumerate(report.capacity)]
    headers = ("team", "members", "capacity/day", "inflow", "inflow/day", "overflow", "peak backlog")
    rows = [
        (
            f' data-team="{escape(t.team)}"',
            (
                t.team,
                str(t.members),
                text.number(t.leads_per_day),
                str(t.inflow),
                text.number(t.inflow_per_business_day, 2),
                text.number(t.overflow),
                text.number(t.peak_backlog),
            ),
        )
        for t in report.capacity
    ]
    note = (
        "MQLs arriving per day (bars; grey on days without working time) against capacity, members × leads per "
        "day (red line); what a day cannot take carries over as backlog (dotted orange line)."
    )
    return _section("capacity", "Inflow vs capacity", note, _table(headers, rows), *charts)


def _dispositions(report: Report) -> str:
    rows = [(s.key, s.dispositions) for s in report.sources if s.dispositions]
    chart = svg.stacked_chart("chart-dispositions", "Disposition mix by source", rows) if rows else ""
    note = "Why leads closed in the period were closed, by lead source." + ("" if rows else " No lead was closed.")
    return _section("dispositions", "Disposition mix by source", note, chart)


REP_HEADERS = (
    "rep", "team", "MQLs", "in SLA", "median 1st touch", "p90", "touches/lead", "email/call/meeting", "min/lead",
    "breaches", "reassigned in/out", "recycles", "early closes", "stale", "cherry-pick index", "touch Gini",
)  # fmt: skip


def _reps(report: Report) -> str:
    rows = []
    for r in report.reps:
        f = r.figures
        cells = (
            r.email, r.team, str(f.mqls_assigned), text.pct(f.worked_within_sla_pct),
            text.minutes(f.median_first_touch_business_minutes), text.minutes(f.p90_first_touch_business_minutes),
            text.number(f.touches_per_lead, 2), text.channels(f.touches_per_lead_by_channel),
            text.number(f.minutes_per_lead), str(f.breaches), f"{f.reassignments_in}/{f.reassignments_out}",
            str(f.recycles), str(f.early_closes), str(f.stale_mqls),
            text.cherry(r.cherry_pick, report.min_sample), text.number(r.touch_gini, 2),
        )  # fmt: skip
        cls = ' class="flagged"' if r.cherry_pick.flagged else ""
        rows.append((f'{cls} data-rep="{escape(r.email)}"', cells))
    return _section("reps", "Reps", "All figures per rep for the period.", _table(REP_HEADERS, rows))


def _groups(section_id: str, heading: str, name: str, groups: Sequence[GroupFigures]) -> str:
    headers = (name, "MQLs delivered", "assigned", "in SLA", "median 1st touch", "touches/lead", "converted", "stale")
    rows = [
        (
            f' data-{name}="{escape(g.key)}"',
            (
                g.key,
                str(g.mqls_delivered),
                str(g.mqls_assigned),
                text.pct(g.worked_within_sla_pct),
                text.minutes(g.median_first_touch_business_minutes),
                text.number(g.touches_per_lead, 2),
                f"{g.converted} ({text.pct(g.conversion_pct)})",
                str(g.stale_mqls),
            ),
        )
        for g in groups
    ]
    return _section(section_id, heading, f"Per {name}.", _table(headers, rows))
