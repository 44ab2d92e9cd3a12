"""Prometheus metrics, in one registry of crmsync's own (so tests and several daemons in one process agree).

The sync, outbox, capture and CRM layers update these; ``/metrics`` serves them. Labels never carry a lead,
an email address or anything else unbounded: only connection names, endpoints, statuses and reasons.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

CYCLE_SECONDS = Histogram(
    "crmsync_cycle_duration_seconds",
    "Wall time of one sync cycle (pull, decide, enqueue, dispatch).",
    ["connection"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
    registry=REGISTRY,
)
LAST_CYCLE = Gauge(
    "crmsync_last_cycle_timestamp_seconds",
    "Unix time at which the last cycle of a connection finished.",
    ["connection"],
    registry=REGISTRY,
)
API_CALLS = Counter(
    "crmsync_api_calls_total",
    "CRM API calls made, by connection and endpoint.",
    ["connection", "endpoint"],
    registry=REGISTRY,
)
BUDGET_USED = Gauge(
    "crmsync_api_budget_used_ratio",
    "Share of the CRM's daily API quota used, as the CRM last reported it.",
    ["connection"],
    registry=REGISTRY,
)
OUTBOX_DEPTH = Gauge(
    "crmsync_outbox_rows",
    "Outbox rows by status.",
    ["connection", "status"],
    registry=REGISTRY,
)
ACTIONS = Counter(
    "crmsync_actions_total",
    "Actions applied in the CRM, by kind and outcome.",
    ["connection", "kind", "outcome"],
    registry=REGISTRY,
)
BREACHES = Counter(
    "crmsync_sla_breaches_total",
    "SLA deadlines that passed, by kind (first_touch, gap).",
    ["connection", "kind"],
    registry=REGISTRY,
)
REASSIGNMENTS = Counter(
    "crmsync_reassignments_total", "Leads reassigned after a breach.", ["connection"], registry=REGISTRY
)
RECYCLES = Counter(
    "crmsync_recycles_total", "Leads recycled to the holding owner.", ["connection", "reason"], registry=REGISTRY
)
CAPTURED = Counter(
    "crmsync_captured_touches_total",
    "Touches and replies captured from mailboxes and calendars.",
    ["connection", "channel"],
    registry=REGISTRY,
)
SKIPPED = Counter(
    "crmsync_skipped_records_total",
    "CRM records skipped because they could not be mapped or decided, by object and reason.",
    ["connection", "object", "reason"],
    registry=REGISTRY,
)
POLICY_RELOADS = Counter(
    "crmsync_policy_reloads_total",
    "Policy file reloads, by result (ok, invalid).",
    ["result"],
    registry=REGISTRY,
)
