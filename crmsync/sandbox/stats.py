"""Request accounting for one sandbox server: counts by endpoint, by status and by API-quota cost.

Thread-safe. The servers call :meth:`Stats.record` once per answered request; tests and benchmarks read
:meth:`Stats.snapshot` (also served as ``GET /__sandbox/stats``). ``quota_used`` is what the vendor's daily
allocation has consumed on the current simulated day (Salesforce ``Sforce-Limit-Info: api-usage=used/max``,
HubSpot ``X-HubSpot-RateLimit-Daily-Remaining``); it resets when the day changes.
An optional request log keeps the last ``log_size`` requests (method, path without query, endpoint,
status, cost, duration); it never holds bodies, headers or tokens.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One answered request, as the optional log keeps it."""

    at: str
    method: str
    path: str
    endpoint: str
    status: int
    cost: int
    duration_ms: float
    fault: str | None


class Stats:
    """Counters of one server. ``log_size`` > 0 turns the request log on."""

    def __init__(self, *, log_size: int = 0) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.by_endpoint: Counter[str] = Counter()
        self.cost_by_endpoint: Counter[str] = Counter()
        self.by_status: Counter[int] = Counter()
        self.faults: Counter[str] = Counter()
        self.quota_total = 0
        self.quota_used = 0
        self._quota_day: date | None = None
        self.log: deque[LoggedRequest] | None = deque(maxlen=log_size) if log_size > 0 else None

    def charge(self, cost: int, now: datetime) -> int:
        """Add ``cost`` to today's quota use (resetting on a new simulated day); return the use after it."""
        with self._lock:
            today = now.date()
            if self._quota_day != today:
                self._quota_day = today
                self.quota_used = 0
            self.quota_used += cost
            self.quota_total += cost
            return self.quota_used

    def used_today(self, now: datetime) -> int:
        """Quota used on the simulated day of ``now`` (0 on a day not yet charged)."""
        with self._lock:
            return self.quota_used if self._quota_day == now.date() else 0

    def record(
        self,
        *,
        endpoint: str,
        method: str,
        path: str,
        status: int,
        cost: int,
        duration_ms: float,
        at: datetime,
        fault: str | None = None,
    ) -> None:
        """Count one answered request (``cost`` is what it charged against the quota)."""
        with self._lock:
            self.requests += 1
            self.by_endpoint[endpoint] += 1
            self.cost_by_endpoint[endpoint] += cost
            self.by_status[status] += 1
            if fault:
                self.faults[fault] += 1
            if self.log is not None:
                entry = LoggedRequest(at.isoformat(), method, path, endpoint, status, cost, duration_ms, fault)
                self.log.append(entry)

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy: requests, by_endpoint, cost_by_endpoint, by_status, faults, quota, log."""
        with self._lock:
            return {
                "requests": self.requests,
                "by_endpoint": dict(self.by_endpoint),
                "cost_by_endpoint": dict(self.cost_by_endpoint),
                "by_status": {str(k): v for k, v in self.by_status.items()},
                "faults": dict(self.faults),
                "quota_used_today": self.quota_used,
                "quota_total": self.quota_total,
                "log": [asdict(e) for e in self.log] if self.log is not None else None,
            }

    def reset(self) -> None:
        """Zero every counter and the log (the quota day too)."""
        with self._lock:
            self.requests = self.quota_used = self.quota_total = 0
            self._quota_day = None
            for counter in (self.by_endpoint, self.cost_by_endpoint, self.by_status, self.faults):
                counter.clear()
            if self.log is not None:
                self.log.clear()
