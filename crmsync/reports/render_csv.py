"""The report as one CSV table: a row per rep, team, source, campaign and the totals.

The ``dimension`` column says which (rep|team|source|campaign|total) and ``key`` names it; rep-only columns
(cherry-pick index and interval, Gini coefficients) are empty on other rows. Channels and dispositions get a
column each. The daily capacity series is in the JSON and HTML forms.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from crmsync.reports.compute import Report
from crmsync.reports.compute.spells import TOUCH_CHANNELS
from crmsync.reports.serialize import group_dict, rep_dict

SCALARS = (
    "mqls_assigned", "sla_evaluated", "worked_within_sla", "worked_within_sla_pct", "first_touches",
    "median_first_touch_business_minutes", "p90_first_touch_business_minutes", "touches_per_lead",
    "minutes_per_lead", "breaches", "reassignments_in", "reassignments_out", "recycles", "early_closes",
    "stale_mqls", "stale_untouched", "mqls_delivered", "converted", "conversion_pct",
)  # fmt: skip
REP_ONLY = (
    "team",
    "cherry_pick_index",
    "cherry_pick_low",
    "cherry_pick_high",
    "cherry_pick_flagged",
    "touch_gini",
    "effort_gini",
)


def _rows(report: Report) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for rep in report.reps:
        data = rep_dict(rep)
        interval = data["cherry_pick_interval"] or [None, None]
        data["cherry_pick_low"], data["cherry_pick_high"] = interval
        yield "rep", rep.email, data
    for dimension, groups in (("team", report.teams), ("source", report.sources), ("campaign", report.campaigns)):
        for group in groups:
            yield dimension, group.key, group_dict(group)
    yield "total", "all", group_dict(report.totals)


def render_csv(report: Report) -> str:
    """The CSV text (RFC 4180 quoting, ``\\r\\n`` line ends as the csv module writes them)."""
    dispositions = sorted({d for _, _, data in _rows(report) for d in data["dispositions"]})
    header = [
        "dimension", "key", *SCALARS,
        *(f"touches_per_lead_{c}" for c in TOUCH_CHANNELS),
        *(f"disposition:{d}" for d in dispositions),
        *REP_ONLY,
    ]  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for dimension, key, data in _rows(report):
        channels = data["touches_per_lead_by_channel"]
        writer.writerow(
            [
                dimension, key, *(_cell(data[name]) for name in SCALARS),
                *(_cell(channels.get(c)) for c in TOUCH_CHANNELS),
                *(data["dispositions"].get(d, 0) for d in dispositions),
                *(_cell(data.get(name)) for name in REP_ONLY),
            ]
        )  # fmt: skip
    return out.getvalue()


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value
