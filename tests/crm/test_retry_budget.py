"""The one retry policy (attempt counts, Retry-After, what is never retried) and the API budget."""

from __future__ import annotations

import pytest

from crmsync.clock import FakeClock
from crmsync.crm.budget import ApiBudget, SlidingWindow
from crmsync.crm.retry import RetryPolicy
from crmsync.errors import AuthError, BudgetExhaustedError, RateLimitedError, RetriableError
from crmsync.outbox.model import Priority


class Flaky:
    """Fails with the given errors in turn, then returns "ok"; counts calls."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def policy(slept: list[float], attempts: int = 5) -> RetryPolicy:
    return RetryPolicy(max_attempts=attempts, initial=1.0, multiplier=2.0, max_wait=8.0, jitter=0.0, sleep=slept.append)


def test_transient_errors_are_retried_with_exponential_backoff() -> None:
    """Three 5xx then success: four attempts, waits 1, 2, 4 seconds."""
    slept: list[float] = []
    fn = Flaky(*(RetriableError("5xx", status=503) for _ in range(3)))
    assert policy(slept).call(fn) == "ok"
    assert fn.calls == 4
    assert slept == [1.0, 2.0, 4.0]


def test_attempts_are_bounded_and_the_last_error_is_raised() -> None:
    """A persistent 5xx is tried exactly max_attempts times, then raised unchanged."""
    slept: list[float] = []
    fn = Flaky(*(RetriableError("5xx", status=500) for _ in range(10)))
    with pytest.raises(RetriableError):
        policy(slept, attempts=3).call(fn)
    assert fn.calls == 3
    assert len(slept) == 2


def test_retry_after_is_a_floor_for_the_wait() -> None:
    """A 429 with Retry-After 7 waits at least 7 seconds before the next attempt."""
    slept: list[float] = []
    fn = Flaky(RateLimitedError("429", status=429, retry_after=7.0, code="SECONDLY"))
    assert policy(slept).call(fn) == "ok"
    assert slept == [7.0]


@pytest.mark.parametrize(
    "error",
    [
        AuthError("no"),
        BudgetExhaustedError("reserve", retry_after=900),
        RateLimitedError("quota", code="REQUEST_LIMIT_EXCEEDED"),
        RateLimitedError("quota", code="DAILY"),
        ValueError("a bug"),
    ],
    ids=["auth", "own-reserve", "sf-daily-quota", "hs-daily-quota", "bug"],
)
def test_non_transient_errors_are_raised_at_once(error: Exception) -> None:
    """Auth failures, budget exhaustion and spent daily quotas are never retried within a call."""
    slept: list[float] = []
    fn = Flaky(error)
    with pytest.raises(type(error)):
        policy(slept).call(fn)
    assert fn.calls == 1
    assert slept == []


def test_jitter_spreads_waits_within_bounds() -> None:
    """With 25 % jitter the first wait lies in [0.75, 1.25] of the base."""
    for draw, expected in ((0.0, 0.75), (1.0, 1.25), (0.5, 1.0)):
        p = RetryPolicy(initial=1.0, jitter=0.25, random=lambda d=draw: d)
        assert p.wait_for(1, None) == pytest.approx(expected)


def test_salesforce_limit_header_is_tracked_and_reserve_stops_new_work(clock: FakeClock) -> None:
    """Sforce-Limit-Info usage is read; at 80 % SLA work stops, backfill stopped earlier."""
    budget = ApiBudget(clock)
    budget.observe({"Sforce-Limit-Info": "api-usage=7100/10000"})
    assert budget.allow(Priority.SLA)
    assert budget.allow(Priority.CAPTURE)
    assert not budget.allow(Priority.BACKFILL)
    budget.observe({"sforce-limit-info": "api-usage=7999/10000"})
    assert budget.allow(Priority.SLA)
    budget.before_call("query", Priority.SLA)  # 8000/10000 now, counting our own call
    with pytest.raises(BudgetExhaustedError) as raised:
        budget.before_call("query", Priority.SLA)
    assert raised.value.retry_after == 900.0
    assert budget.snapshot().used == 8000


def test_hubspot_daily_headers_and_burst_window_are_tracked(clock: FakeClock) -> None:
    """HubSpot's daily headers set used/limit; its burst max becomes a 10-second sliding window."""
    budget = ApiBudget(clock)
    budget.observe({"X-HubSpot-RateLimit-Daily": "1000", "X-HubSpot-RateLimit-Daily-Remaining": "900",
                    "X-HubSpot-RateLimit-Max": "3", "X-HubSpot-RateLimit-Remaining": "2",
                    "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"})  # fmt: skip
    assert (budget.used, budget.limit, budget.burst_remaining) == (100, 1000, 2)
    for _ in range(4):
        budget.before_call("x")
    assert clock.slept == [10.0]
    assert budget.snapshot().calls_by_endpoint == {"x": 4}


def test_search_is_throttled_to_its_rate(clock: FakeClock) -> None:
    """Nine search calls at 4 a second wait two full seconds in all."""
    budget = ApiBudget(clock, search_per_s=4)
    for _ in range(9):
        budget.before_call("search", search=True)
    assert sum(clock.slept) == pytest.approx(2.0)


def test_quota_exhaustion_reported_by_the_crm_stops_everything(clock: FakeClock) -> None:
    """After the CRM says the daily quota is spent, no priority may start new work."""
    budget = ApiBudget(clock)
    budget.mark_exhausted()
    assert not budget.allow(Priority.SLA)


def test_sliding_window_never_waits_under_its_limit(clock: FakeClock) -> None:
    """Events spaced wider than the window never wait."""
    window = SlidingWindow(1, 1.0, clock)
    for _ in range(3):
        window.acquire()
        clock.sleep(1.5)
    assert window.waited == 0.0
