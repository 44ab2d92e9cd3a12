"""Errors, sorted by what the caller must do about them.

::

    CrmsyncError                      root: never raised itself
    ├── ConfigError                   settings or connection configuration is wrong; fix and restart (exit 2)
    │   └── PolicyError               a policy file is invalid; carries every located problem at once
    ├── FatalError                    cannot go on for this connection (credentials revoked, permission missing)
    │   └── AuthError                 authentication failed and a refresh did not help
    ├── RetriableError                transient: try again later, honouring ``retry_after`` when the CRM gave one
    │   ├── RateLimitedError          429 / REQUEST_LIMIT_EXCEEDED / daily quota reached
    │   └── BudgetExhaustedError      our own API budget reserve reached: stop new work until the window resets
    └── SkippableError                this one record cannot be processed; skip it with its id and reason, go on
        └── PermanentRecordError      the CRM refused a write for good (validation rule, deleted record):
                                      dead-letter the outbox row with the CRM's message

Exceptions carry fields (ids, status codes, attempt numbers), never a record body, a token or an email address.
Vendor exceptions are translated into these only inside ``crmsync.crm``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class CrmsyncError(Exception):
    """Root of every error crmsync raises on purpose."""


class ConfigError(CrmsyncError):
    """Settings or configuration are invalid; the message lists every problem found."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    """One located problem in a policy file: ``file:line:column: path: message``."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}:{self.column}: {where}{self.message}"


class PolicyError(ConfigError):
    """A policy file is invalid. ``problems`` holds one formatted line per problem, ``located`` the records."""

    def __init__(self, located: Sequence[PolicyProblem]) -> None:
        self.located: tuple[PolicyProblem, ...] = tuple(located)
        super().__init__([str(p) for p in self.located])


class FatalError(CrmsyncError):
    """Work for this connection cannot continue until an operator acts."""

    def __init__(self, message: str, *, connection: str | None = None) -> None:
        self.connection = connection
        super().__init__(message)


class AuthError(FatalError):
    """Authentication failed and refreshing the session did not help."""


class RetriableError(CrmsyncError):
    """A transient failure. ``retry_after`` is the delay in seconds the server asked for, if it asked."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        self.retry_after = retry_after
        self.status = status
        self.code = code
        super().__init__(message)


class RateLimitedError(RetriableError):
    """The CRM said slow down (HTTP 429, ``REQUEST_LIMIT_EXCEEDED``)."""


class BudgetExhaustedError(RetriableError):
    """crmsync's own API budget reserve is reached; new work waits for the quota window to reset."""


class SkippableError(CrmsyncError):
    """One record cannot be processed. ``record_id`` and ``reason`` say which and why; the cycle goes on."""

    def __init__(
        self, reason: str, *, record_id: str | None = None, status: int | None = None, code: str | None = None
    ) -> None:
        self.record_id = record_id
        self.reason = reason
        self.status = status
        self.code = code
        super().__init__(f"{record_id or '<no id>'}: {reason}")


class PermanentRecordError(SkippableError):
    """The CRM refused this record's write for good; the outbox dead-letters it with the CRM's message."""
