"""The report as one JSON object (see :func:`crmsync.reports.serialize.report_dict` for its keys)."""

from __future__ import annotations

import json

from crmsync.reports.compute import Report
from crmsync.reports.serialize import report_dict


def render_json(report: Report) -> str:
    """Pretty-printed JSON, UTF-8 characters kept, ending with a newline."""
    return json.dumps(report_dict(report), indent=2, ensure_ascii=False) + "\n"
