"""The API budget of one connection: what the CRM says is used, our reserve, and the burst throttle.

- **Quota.** Every response's headers go through :meth:`ApiBudget.observe`: Salesforce ``Sforce-Limit-Info:
  api-usage=used/limit``, HubSpot ``X-HubSpot-RateLimit-Daily`` / ``-Daily-Remaining`` (daily) and ``-Max`` /
  ``-Remaining`` / ``-Interval-Milliseconds`` (the burst window). Between two responses, our own calls are added to
  the last reported use, so the estimate never lags.
- **Reserve, by priority.** New work of a priority stops when the used share reaches that priority's ceiling:
  by default SLA work (and the pulls it needs) at ``stop_at`` (80 %), captured-activity logging 5 points
  earlier, backfill 10 points earlier, so the last of the budget goes to reassignments. :meth:`allow` answers
  the dispatcher's "may I start this?"; :meth:`before_call` raises :class:`~crmsync.errors.BudgetExhaustedError`.
- **Burst.** A sliding window holds calls to ``burst_max`` per ``burst_window_s`` (HubSpot's 10-second limit,
  learnt from the headers when not configured) and search calls to ``search_per_s``; it sleeps on the injected
  clock rather than letting the CRM answer 429.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping
from typing import Any

import structlog

from crmsync.clock import Clock
from crmsync.crm.ports import Budget
from crmsync.errors import BudgetExhaustedError
from crmsync.outbox.model import Priority

log = structlog.get_logger(__name__)
_SF_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")


class SlidingWindow:
    """At most ``limit`` events per ``window`` seconds on ``clock``; :meth:`acquire` sleeps until one is free."""

    def __init__(self, limit: int, window: float, clock: Clock) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._events: deque[float] = deque()
        self.waited = 0.0

    def acquire(self) -> None:
        """Wait (on the clock) until another event fits in the window, then record it."""
        now = self._clock.monotonic()
        while self._events and self._events[0] <= now - self.window:
            self._events.popleft()
        if self.limit > 0 and len(self._events) >= self.limit:
            pause = self._events[0] + self.window - now
            if pause > 0:
                self.waited += pause
                self._clock.sleep(pause)
            now = self._clock.monotonic()
            while self._events and self._events[0] <= now - self.window:
                self._events.popleft()
        self._events.append(now)


class ApiBudget:
    """Quota tracking, priority reserve and burst throttling for one connection (thread-compatible, not safe)."""

    def __init__(
        self,
        clock: Clock,
        *,
        stop_at: float = 0.8,
        ceilings: Mapping[int, float] | None = None,
        burst_max: int | None = None,
        burst_window_s: float = 10.0,
        search_per_s: int | None = None,
        exhausted_retry_after: float = 900.0,
    ) -> None:
        self._clock = clock
        self.ceilings: dict[int, float] = {
            Priority.SLA: stop_at,
            Priority.CAPTURE: stop_at - 0.05,
            Priority.BACKFILL: stop_at - 0.10,
        }
        self.ceilings.update(ceilings or {})
        self.exhausted_retry_after = exhausted_retry_after
        self.used: int | None = None
        self.limit: int | None = None
        self.burst_remaining: int | None = None
        self._since_report = 0
        self.calls_by_endpoint: dict[str, int] = {}
        self._burst = SlidingWindow(burst_max, burst_window_s, clock) if burst_max else None
        self._burst_configured = burst_max is not None
        self._search = SlidingWindow(search_per_s, 1.0, clock) if search_per_s else None

    # -- accounting ---------------------------------------------------------------------------------------
    def count(self, endpoint: str) -> None:
        """Record one API call to ``endpoint`` (every call, successful or not)."""
        self.calls_by_endpoint[endpoint] = self.calls_by_endpoint.get(endpoint, 0) + 1
        self._since_report += 1

    def observe(self, headers: Mapping[str, Any] | None) -> None:
        """Read the quota headers of one response (any vendor; absent headers change nothing)."""
        if not headers:
            return
        low = {str(k).lower(): str(v) for k, v in headers.items()}
        usage = _SF_USAGE.search(low.get("sforce-limit-info", ""))
        if usage:
            self._report(int(usage.group(1)), int(usage.group(2)))
        daily, left = _int(low.get("x-hubspot-ratelimit-daily")), _int(low.get("x-hubspot-ratelimit-daily-remaining"))
        if daily is not None and left is not None:
            self._report(daily - left, daily)
        self.burst_remaining = _int(low.get("x-hubspot-ratelimit-remaining"), self.burst_remaining)
        burst_max = _int(low.get("x-hubspot-ratelimit-max"))
        if burst_max and not self._burst_configured:
            window = (_int(low.get("x-hubspot-ratelimit-interval-milliseconds")) or 10000) / 1000
            if self._burst is None or self._burst.limit != burst_max:
                self._burst = SlidingWindow(burst_max, window, self._clock)

    def _report(self, used: int, limit: int) -> None:
        self.used, self.limit, self._since_report = used, limit, 0

    def mark_exhausted(self) -> None:
        """The CRM said the daily quota is spent: treat it as fully used until it reports otherwise."""
        if self.limit:
            self.used = self.limit
        else:
            self.used, self.limit = 1, 1
        self._since_report = 0

    @property
    def used_fraction(self) -> float | None:
        """Share of the daily quota used, our calls since the last report included; None if never reported."""
        if self.used is None or not self.limit:
            return None
        return (self.used + self._since_report) / self.limit

    # -- decisions ----------------------------------------------------------------------------------------
    def allow(self, priority: int = Priority.SLA) -> bool:
        """Whether new work of ``priority`` may start (an unknown quota allows everything)."""
        used = self.used_fraction
        return used is None or used < self.ceilings.get(priority, min(self.ceilings.values()))

    def before_call(self, endpoint: str, priority: int = Priority.SLA, *, search: bool = False) -> None:
        """Check the reserve (raise :class:`BudgetExhaustedError`), wait for the burst window, count the call."""
        if not self.allow(priority):
            log.warning("api_budget_reserve_reached", endpoint=endpoint, priority=priority, used=self.used_fraction)
            raise BudgetExhaustedError(
                f"API budget reserve reached ({self.used_fraction:.0%} used)",
                retry_after=self.exhausted_retry_after,
                code="BUDGET_RESERVE",
            )
        if search and self._search is not None:
            self._search.acquire()
        if self._burst is not None:
            self._burst.acquire()
        self.count(endpoint)

    def snapshot(self) -> Budget:
        """The port's :class:`Budget` view."""
        used = None if self.used is None else self.used + self._since_report
        return Budget(
            used=used,
            limit=self.limit,
            burst_remaining=self.burst_remaining,
            calls_made=sum(self.calls_by_endpoint.values()),
            calls_by_endpoint=dict(self.calls_by_endpoint),
        )


def _int(raw: str | None, default: int | None = None) -> int | None:
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        return default
