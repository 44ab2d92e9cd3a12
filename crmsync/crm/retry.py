"""The one retry policy for CRM calls: exponential backoff with jitter, Retry-After honoured, bounded.

Every API call of every adapter goes through :meth:`RetryPolicy.call` (and nowhere else; the SDKs' own retries
are off). What is retried follows from the error class: a :class:`~crmsync.errors.RetriableError` is, except
:class:`~crmsync.errors.BudgetExhaustedError` (our own reserve) and the codes repeating the call cannot fix
(:data:`~crmsync.crm.translate.NOT_RETRIED_IN_CALL`: the daily quota is spent, a query cursor is gone). Everything else
(auth, fatal, per-record) is raised at once. When attempts run out the last error is raised unchanged, so
the caller (the outbox) schedules the retry for later with its own longer backoff.

``sleep`` and ``random`` are injectable: tests replace them and count attempts.
"""

from __future__ import annotations

import random as _random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from crmsync.crm.translate import NOT_RETRIED_IN_CALL
from crmsync.errors import BudgetExhaustedError, RetriableError

T = TypeVar("T")
log = structlog.get_logger(__name__)


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is worth another try within this call."""
    if isinstance(exc, BudgetExhaustedError):
        return False
    if isinstance(exc, RetriableError) and exc.code in NOT_RETRIED_IN_CALL:
        return False
    return isinstance(exc, RetriableError)


@dataclass
class RetryPolicy:
    """Bounded exponential backoff: ``initial * multiplier**(n-1)`` capped at ``max_wait``, ± ``jitter`` share.

    A server's Retry-After (``RetriableError.retry_after``) is a floor for the wait, capped at
    ``max_retry_after`` (longer waits are left to the outbox). ``attempts`` counts every try of the last call.
    """

    max_attempts: int = 5
    initial: float = 0.5
    multiplier: float = 2.0
    max_wait: float = 30.0
    jitter: float = 0.25
    max_retry_after: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = field(default=_random.random)
    attempts: int = 0
    total_attempts: int = 0

    def wait_for(self, attempt: int, exc: BaseException | None) -> float:
        """The pause after failed attempt number ``attempt`` (1-based) that raised ``exc``."""
        base = min(self.initial * self.multiplier ** (attempt - 1), self.max_wait)
        wait = base * (1 + self.jitter * (2 * self.random() - 1))
        retry_after = getattr(exc, "retry_after", None)
        if isinstance(retry_after, int | float) and retry_after > 0:
            wait = max(wait, min(float(retry_after), self.max_retry_after))
        return max(wait, 0.0)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        return self.wait_for(state.attempt_number, exc)

    def _before_sleep(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.info(
            "crm_call_retry",
            attempt=state.attempt_number,
            error=type(exc).__name__,
            code=getattr(exc, "code", None),
            status=getattr(exc, "status", None),
        )

    def call(self, fn: Callable[[], T], *, endpoint: str = "") -> T:
        """Run ``fn`` until it succeeds, raises a non-transient error, or ``max_attempts`` tries are spent."""
        self.attempts = 0

        def counted() -> T:
            self.attempts += 1
            self.total_attempts += 1
            return fn()

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception(is_transient),
            sleep=self.sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        return retrying(counted)
