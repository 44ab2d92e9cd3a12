"""Inline SVG charts for the HTML report, drawn by hand: no scripts, no fonts or images fetched. Pure.

Every chart is an ``<svg role="img">`` with a ``<title>``; every mark carries ``data-*`` attributes naming
what it shows (``data-label``, ``data-value``...), so the page can be checked by reading its DOM. Output is
deterministic: the same report draws the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import NamedTuple

from crmsync.reports.compute import TeamCapacityFigures

WIDTH = 720
LABEL_W = 200
ROW_H = 24
PALETTE = ("#2f6fb0", "#e0803a", "#3c9a5f", "#c4473f", "#8a63b8", "#8c6d4f", "#d278b5", "#7f7f7f", "#b5b531", "#35b3c4")
INK = "#333"
GRID = "#ddd"


def _f(value: float) -> str:
    """A coordinate with at most one decimal."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg(chart_id: str, title: str, height: float, body: list[str]) -> str:
    head = (
        f'<svg id="{escape(chart_id)}" class="chart" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'width="{WIDTH}" height="{_f(height)}" viewBox="0 0 {WIDTH} {_f(height)}">'
    )
    return "\n".join([head, f"<title>{escape(title)}</title>", *body, "</svg>"])


def _text(x: float, y: float, content: str, anchor: str = "start", cls: str = "t") -> str:
    return f'<text class="{cls}" x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}">{escape(content)}</text>'


def bar_chart(chart_id: str, title: str, rows: Sequence[tuple[str, float | None]], maximum: float, unit: str) -> str:
    """Horizontal bars from 0 to ``maximum``, one per (label, value); None draws "no data"."""
    plot = WIDTH - LABEL_W - 70
    body: list[str] = []
    for i, (label, value) in enumerate(rows):
        y = 10 + i * ROW_H
        body.append(_text(LABEL_W - 8, y + 15, label, "end"))
        if value is None:
            body.append(_text(LABEL_W, y + 15, "no data", cls="muted"))
            continue
        w = plot * max(0.0, min(value, maximum)) / maximum if maximum else 0.0
        body.append(
            f'<rect class="bar" data-label="{escape(label)}" data-value="{value:.1f}" x="{LABEL_W}" '
            f'y="{y + 3}" width="{_f(w)}" height="{ROW_H - 8}" fill="{PALETTE[0]}"/>'
        )
        body.append(_text(LABEL_W + w + 6, y + 15, f"{value:.1f}{unit}"))
    return _svg(chart_id, title, 20 + len(rows) * ROW_H, body)


def histogram(chart_id: str, title: str, buckets: Sequence[tuple[str, int]]) -> str:
    """Vertical bars, one per (bucket label, count), scaled to the largest count."""
    height, top, bottom = 220.0, 20.0, 40.0
    plot_h = height - top - bottom
    slot = (WIDTH - 40) / max(len(buckets), 1)
    peak = max((n for _, n in buckets), default=0) or 1
    body = [f'<line x1="20" y1="{_f(height - bottom)}" x2="{WIDTH - 20}" y2="{_f(height - bottom)}" stroke="{INK}"/>']
    for i, (label, count) in enumerate(buckets):
        x = 20 + i * slot
        h = plot_h * count / peak
        body.append(
            f'<rect class="bar" data-label="{escape(label)}" data-value="{count}" x="{_f(x + 6)}" '
            f'y="{_f(height - bottom - h)}" width="{_f(slot - 12)}" height="{_f(h)}" fill="{PALETTE[0]}"/>'
        )
        body.append(_text(x + slot / 2, height - bottom - h - 4, str(count), "middle"))
        body.append(_text(x + slot / 2, height - bottom + 16, label, "middle"))
    return _svg(chart_id, title, height, body)


class IntervalRow(NamedTuple):
    """One row of :func:`interval_chart`: an index with its interval, or ``None`` and a ``note`` saying why."""

    label: str
    value: float | None
    low: float | None
    high: float | None
    flagged: bool
    note: str = ""


def _log2_ticks(low: float, high: float) -> list[float]:
    """Powers of two from ``low`` to ``high`` (both powers of two), thinned to at most nine, 1 always kept."""
    first, last = round(math.log2(low)), round(math.log2(high))
    step = max(1, math.ceil((last - first + 1) / 9))
    return [2.0**e for e in range(first, last + 1) if e % step == 0]


def interval_chart(chart_id: str, title: str, rows: Sequence[IntervalRow]) -> str:
    """Point and whiskers per row on a log scale (powers of two), a dashed reference line at 1."""
    known = [v for r in rows for v in (r.value, r.low, r.high) if v is not None and v > 0]
    lo_axis = 2.0 ** math.floor(math.log2(min([0.25, *known])))
    hi_axis = 2.0 ** math.ceil(math.log2(max([4.0, *known])))
    plot = WIDTH - LABEL_W - 40

    def x(value: float) -> float:
        return LABEL_W + plot * (math.log(value) - math.log(lo_axis)) / (math.log(hi_axis) - math.log(lo_axis))

    height = 40 + len(rows) * ROW_H
    body = [f'<line class="ref" x1="{_f(x(1.0))}" y1="4" x2="{_f(x(1.0))}" y2="{_f(height - 22)}" stroke="{INK}" '
            'stroke-dasharray="4 3"/>']  # fmt: skip
    body += [_text(x(tick), height - 6, f"{tick:g}", "middle", "muted") for tick in _log2_ticks(lo_axis, hi_axis)]
    for i, row in enumerate(rows):
        y = 14 + i * ROW_H
        body.append(_text(LABEL_W - 8, y + 4, row.label, "end"))
        if row.value is None or row.low is None or row.high is None:
            body.append(_text(LABEL_W, y + 4, row.note or "no index", cls="muted"))
            continue
        colour = PALETTE[3] if row.flagged else PALETTE[0]
        body.append(
            f'<line x1="{_f(x(row.low))}" y1="{y}" x2="{_f(x(row.high))}" y2="{y}" stroke="{colour}" stroke-width="2"/>'
        )
        body.append(
            f'<circle class="point" data-label="{escape(row.label)}" data-value="{row.value:.3f}" '
            f'data-low="{row.low:.3f}" data-high="{row.high:.3f}" data-flagged="{str(row.flagged).lower()}" '
            f'cx="{_f(x(row.value))}" cy="{y}" r="5" fill="{colour}"/>'
        )
    return _svg(chart_id, title, height, body)


def capacity_chart(chart_id: str, team: TeamCapacityFigures) -> str:
    """Daily inflow bars, the capacity as a step line and the backlog as a dotted line, for one team."""
    height, top, bottom = 220.0, 20.0, 40.0
    plot_h = height - top - bottom
    days = team.days
    slot = (WIDTH - 60) / max(len(days), 1)
    peak = max([1.0, *(max(d.inflow, d.capacity, d.backlog) for d in days)])

    def y(value: float) -> float:
        return height - bottom - plot_h * value / peak

    body = [f'<line x1="40" y1="{_f(y(0))}" x2="{WIDTH - 20}" y2="{_f(y(0))}" stroke="{INK}"/>',
            _text(34, y(peak) + 4, f"{peak:g}", "end", "muted")]  # fmt: skip
    steps, backlog = [], []
    for i, d in enumerate(days):
        x0 = 40 + i * slot
        body.append(
            f'<rect class="bar" data-day="{d.day.isoformat()}" data-value="{d.inflow}" '
            f'data-capacity="{d.capacity:g}" x="{_f(x0 + 3)}" y="{_f(y(d.inflow))}" width="{_f(max(slot - 6, 1))}" '
            f'height="{_f(y(0) - y(d.inflow))}" fill="{PALETTE[0] if d.business_day else PALETTE[7]}"/>'
        )
        steps += [f"{_f(x0)},{_f(y(d.capacity))}", f"{_f(x0 + slot)},{_f(y(d.capacity))}"]
        backlog.append(f"{_f(x0 + slot / 2)},{_f(y(d.backlog))}")
        if len(days) <= 16 or i % math.ceil(len(days) / 16) == 0:
            body.append(_text(x0 + slot / 2, height - bottom + 16, d.day.strftime("%a %d"), "middle", "muted"))
    body.append(
        f'<polyline class="capacity" points="{" ".join(steps)}" fill="none" stroke="{PALETTE[3]}" stroke-width="2"/>'
    )
    body.append(
        f'<polyline class="backlog" points="{" ".join(backlog)}" fill="none" stroke="{PALETTE[1]}" '
        'stroke-width="2" stroke-dasharray="2 3"/>'
    )
    title = f"{team.team}: MQL inflow per day (bars) against capacity (line) and backlog (dotted)"
    return _svg(chart_id, title, height, body)


def stacked_chart(chart_id: str, title: str, rows: Sequence[tuple[str, Mapping[str, int]]]) -> str:
    """One 100 % bar per (label, counts by category), with a legend of the categories."""
    categories = sorted({c for _, counts in rows for c in counts})
    colour = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(categories)}
    plot = WIDTH - LABEL_W - 20
    body: list[str] = []
    for i, (label, counts) in enumerate(rows):
        y = 10 + i * ROW_H
        total = sum(counts.values())
        body.append(_text(LABEL_W - 8, y + 15, f"{label} ({total})", "end"))
        x = float(LABEL_W)
        for category in categories:
            n = counts.get(category, 0)
            if n == 0 or total == 0:
                continue
            w = plot * n / total
            body.append(
                f'<rect class="segment" data-label="{escape(label)}" data-category="{escape(category)}" '
                f'data-value="{n}" x="{_f(x)}" y="{y + 3}" width="{_f(w)}" height="{ROW_H - 8}" '
                f'fill="{colour[category]}"/>'
            )
            x += w
    legend_y = 20 + len(rows) * ROW_H
    for i, category in enumerate(categories):
        lx = 20 + (i % 4) * 175
        ly = legend_y + (i // 4) * 18
        body.append(f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{colour[category]}"/>')
        body.append(_text(lx + 18, ly + 11, category))
    return _svg(chart_id, title, legend_y + 10 + math.ceil(len(categories) / 4) * 18, body)
