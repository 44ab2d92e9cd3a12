"""Vendor exceptions and per-record errors → crmsync errors and outcomes. The only place that knows them.

Whole-call failures (:func:`translate`):

- simple-salesforce: 401 ``SalesforceExpiredSession`` / ``SalesforceAuthenticationFailed`` → ``AuthError``;
  403 ``REQUEST_LIMIT_EXCEEDED`` → ``RateLimitedError(code="REQUEST_LIMIT_EXCEEDED")`` (the daily quota: not
  retried within a cycle), other 403 → ``FatalError`` (permission); 400 with a transient code
  (``UNABLE_TO_LOCK_ROW``, ``INVALID_QUERY_LOCATOR``) → ``RetriableError``, with a record code →
  ``PermanentRecordError``, otherwise (``MALFORMED_QUERY``, ``INVALID_FIELD``: a field the org lacks) →
  ``FatalError``; 404 / 300 → ``PermanentRecordError``; 412 → ``SkippableError`` (premise changed);
  408/409/5xx → ``RetriableError``; 429 → ``RateLimitedError``; other statuses and Bulk errors → ``FatalError``.
- hubspot-api-client: every ``ApiException`` copy (one per sub-package, matched by class name) by ``status``:
  0 (TLS or unparsable answer) → ``RetriableError``, 401 → ``AuthError``, 403 → ``FatalError``, 404/409/400 →
  ``PermanentRecordError``, 429 → ``RateLimitedError`` (``code`` is the policy, ``DAILY`` or ``SECONDLY``),
  408/5xx → ``RetriableError``, others → ``FatalError``; client-side ``ApiTypeError``/``ApiValueError``/... and the
  webhook signature errors → ``FatalError``.
- requests / urllib3: timeouts, refused or reset connections, truncated bodies → ``RetriableError``; TLS
  failures, bad URLs, proxy misconfiguration → ``FatalError``.

Per-record failures (:func:`sf_outcome`, :func:`hs_error_outcome`) become :class:`Outcome` values: a lock or a
rollback is RETRY, a deleted/converted/missing record is SKIPPED (the action no longer applies), anything else
(validation rule, invalid cross-reference, duplicate) is DEAD with the CRM's message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import requests
import urllib3.exceptions as u3
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceOperationError,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from crmsync.crm.ports import Outcome, OutcomeStatus
from crmsync.errors import (
    AuthError,
    CrmsyncError,
    FatalError,
    PermanentRecordError,
    RateLimitedError,
    RetriableError,
    SkippableError,
)

DAILY_QUOTA_CODES = frozenset({"REQUEST_LIMIT_EXCEEDED", "DAILY"})
"""Codes on a :class:`RateLimitedError` that mean the daily quota is spent: stop the cycle, do not retry now."""
NOT_RETRIED_IN_CALL = DAILY_QUOTA_CODES | {"INVALID_QUERY_LOCATOR"}
"""Retriable codes that repeating the same call cannot fix (the caller re-plans: a new query, a later cycle)."""

SF_TRANSIENT = frozenset(
    {
        "UNABLE_TO_LOCK_ROW",
        "INVALID_QUERY_LOCATOR",
        "SERVER_UNAVAILABLE",
        "REQUEST_RUNNING_TOO_LONG",
        "QUERY_TIMEOUT",
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "PROCESSING_HALTED",
    }
)
SF_GONE = frozenset(
    {
        "ENTITY_IS_DELETED",
        "CANNOT_UPDATE_CONVERTED_LEAD",
        "ENTITY_IS_ARCHIVED",
        "NOT_FOUND",
        "INVALID_ID_FIELD",
        "PRECONDITION_FAILED",
    }
)
SF_RECORD = frozenset(
    {
        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "INVALID_CROSS_REFERENCE_KEY",
        "DUPLICATES_DETECTED",
        "DUPLICATE_VALUE",
        "REQUIRED_FIELD_MISSING",
        "STRING_TOO_LONG",
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "FIELD_INTEGRITY_EXCEPTION",
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
        "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
    }
    | SF_GONE
)
HS_TRANSIENT = frozenset({"RATE_LIMITS", "LOCKED", "INTERNAL_ERROR", "TIMEOUT", "SERVICE_UNAVAILABLE"})
HS_GONE = frozenset({"OBJECT_NOT_FOUND", "OBJECT_ARCHIVED"})

_MESSAGE_LIMIT = 255
SECONDLY_WAIT = 1.0
_VENDOR_MODULES = ("simple_salesforce.", "hubspot.", "requests.", "urllib3.")


def is_hubspot_api_error(exc: BaseException) -> bool:
    """Whether ``exc`` is one of hubspot-api-client's ~60 unrelated ``ApiException`` copies (or a subclass)."""
    return any(
        klass.__name__ == "ApiException" and klass.__module__.startswith("hubspot.") for klass in type(exc).__mro__
    )


def is_vendor_error(exc: BaseException) -> bool:
    """Whether ``exc`` comes from a CRM client or the HTTP stack under it (and so must be translated)."""
    if isinstance(exc, SalesforceError | SalesforceOperationError | requests.RequestException | u3.HTTPError):
        return True
    return any(klass.__module__.startswith(_VENDOR_MODULES) for klass in type(exc).__mro__)


def translate(exc: BaseException) -> CrmsyncError:
    """The crmsync error for a vendor exception (total over the classes :func:`is_vendor_error` accepts)."""
    if isinstance(exc, CrmsyncError):
        return exc
    if isinstance(exc, SalesforceError):
        return _salesforce(exc)
    if isinstance(exc, SalesforceOperationError):
        return FatalError(f"Salesforce bulk operation failed: {type(exc).__name__}")
    if is_hubspot_api_error(exc):
        return _hubspot(exc)
    if type(exc).__module__.startswith("hubspot."):
        return FatalError(f"HubSpot client refused the request: {type(exc).__name__}")
    if isinstance(exc, requests.RequestException):
        return _requests(exc)
    if isinstance(exc, u3.HTTPError):
        return _urllib3(exc)
    return FatalError(f"HTTP client refused the request: {type(exc).__name__}")


def sf_error_code(content: object) -> tuple[str | None, str | None]:
    """(errorCode, message) of a Salesforce error body: the documented ``[{"errorCode", "message"}]`` list."""
    first: object = content[0] if isinstance(content, list) and content else content
    if isinstance(first, Mapping):
        code = first.get("errorCode") or first.get("statusCode") or first.get("error")
        message = first.get("message") or first.get("error_description")
        return (str(code) if code else None, _short(message))
    return None, None


def _short(message: object) -> str | None:
    return str(message)[:_MESSAGE_LIMIT] if message else None


def _salesforce(exc: SalesforceError) -> CrmsyncError:
    status = getattr(exc, "status", None)
    code, message = sf_error_code(getattr(exc, "content", None))
    text = f"Salesforce {status} {code or type(exc).__name__}"
    if isinstance(exc, SalesforceAuthenticationFailed | SalesforceExpiredSession):
        return AuthError(f"Salesforce authentication failed ({code or status})")
    if isinstance(exc, SalesforceRefusedRequest):
        if code == "REQUEST_LIMIT_EXCEEDED":
            return RateLimitedError(text, status=403, code=code)
        return FatalError(f"{text}: permission refused")
    if isinstance(exc, SalesforceMalformedRequest):
        if code in SF_TRANSIENT:
            return RetriableError(text, status=400, code=code)
        if code in SF_RECORD:
            return PermanentRecordError(message or text, status=400, code=code)
        return FatalError(f"{text}: {message or 'malformed request'}")
    if isinstance(exc, SalesforceResourceNotFound | SalesforceMoreThanOneRecord):
        return PermanentRecordError(message or text, status=status, code=code or "NOT_FOUND")
    return _by_status(status if isinstance(status, int) else 0, text, code, None)


def _by_status(status: int, text: str, code: str | None, retry_after: float | None) -> CrmsyncError:
    if status == 429:
        return RateLimitedError(text, status=429, code=code, retry_after=retry_after)
    if status in (0, 408, 409) or status >= 500:
        return RetriableError(text, status=status, code=code, retry_after=retry_after)
    if status == 412:
        return SkippableError("precondition failed: the record changed", status=412, code="PRECONDITION_FAILED")
    if status == 401:
        return AuthError(text)
    return FatalError(text)


def _hubspot(exc: BaseException) -> CrmsyncError:
    status = getattr(exc, "status", None)
    status = status if isinstance(status, int) else 0
    body = _json(getattr(exc, "body", None))
    headers = getattr(exc, "headers", None) or {}
    category = body.get("category") if isinstance(body.get("category"), str) else None
    policy = body.get("policyName") if isinstance(body.get("policyName"), str) else None
    text = f"HubSpot {status} {policy or category or type(exc).__name__}"
    if status == 401:
        return AuthError(f"HubSpot authentication failed ({status})")
    if status == 403:
        return FatalError(f"{text}: the token lacks a scope")
    if status == 429:
        # HubSpot sends no Retry-After; a secondly limit frees up within a second or two
        wait = _retry_after(headers) or (SECONDLY_WAIT if policy != "DAILY" else None)
        return RateLimitedError(text, status=429, code=policy or "RATE_LIMITS", retry_after=wait)
    if status in (400, 404, 409):
        return PermanentRecordError(_short(body.get("message")) or text, status=status, code=category)
    return _by_status(status, text, category, _retry_after(headers))


def _json(raw: object) -> dict[str, Any]:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if not isinstance(raw, str):
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _retry_after(headers: Any) -> float | None:
    try:
        value = headers.get("Retry-After") if hasattr(headers, "get") else None
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _requests(exc: requests.RequestException) -> CrmsyncError:
    name = type(exc).__name__
    if isinstance(exc, requests.exceptions.SSLError | requests.exceptions.ProxyError):
        return FatalError(f"cannot reach the CRM securely: {name} (check the CA file and proxy settings)")
    transient = (
        requests.Timeout,
        requests.ConnectionError,
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.ContentDecodingError,
        requests.exceptions.JSONDecodeError,
        requests.exceptions.RetryError,
    )
    if isinstance(exc, transient):
        return RetriableError(f"network: {name}", code=name)
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return _by_status(exc.response.status_code, f"HTTP {exc.response.status_code}", None, None)
    return FatalError(f"HTTP client refused the request: {name}")


def _urllib3(exc: u3.HTTPError) -> CrmsyncError:
    name = type(exc).__name__
    if isinstance(exc, u3.MaxRetryError) and exc.reason is not None:
        return _urllib3(exc.reason) if isinstance(exc.reason, u3.HTTPError) else RetriableError(f"network: {name}")
    fatal = (u3.SSLError, u3.ProxyError, u3.LocationValueError, u3.ProxySchemeUnknown, u3.HostChangedError)
    if isinstance(exc, fatal):
        return FatalError(f"cannot reach the CRM: {name} (check the host, CA file and proxy settings)")
    return RetriableError(f"network: {name}", code=name)


# -- per-record outcomes -----------------------------------------------------------------------------------
def outcome_for(status: OutcomeStatus, code: str | None, message: str | None) -> Outcome:
    """An outcome carrying the CRM's code and (shortened) message."""
    return Outcome(status, code=code, message=_short(message))


def sf_outcome(result: Mapping[str, Any]) -> Outcome:
    """The outcome of one sObject Collections result row (``success``, ``id``, ``errors[].statusCode``)."""
    if result.get("success") is True:
        rid = result.get("id")
        return Outcome(OutcomeStatus.DONE, crm_id=rid if isinstance(rid, str) else None)
    errors = result.get("errors")
    first = errors[0] if isinstance(errors, Sequence) and errors and isinstance(errors[0], Mapping) else {}
    code = first.get("statusCode") or first.get("errorCode")
    code = str(code) if code else "UNKNOWN_ERROR"
    message = first.get("message")
    if code in SF_TRANSIENT:
        return outcome_for(OutcomeStatus.RETRY, code, message)
    if code in SF_GONE:
        return outcome_for(OutcomeStatus.SKIPPED, code, message)
    return outcome_for(OutcomeStatus.DEAD, code, message)


def hs_error_outcome(error: Mapping[str, Any]) -> Outcome:
    """The outcome of one input named in a HubSpot batch's ``errors[]`` (a ``StandardError``)."""
    category = str(error.get("category") or error.get("subCategory") or "UNKNOWN_ERROR")
    status = error.get("status")
    message = error.get("message")
    if category in HS_TRANSIENT or (isinstance(status, str) and status.isdigit() and int(status) >= 500):
        return outcome_for(OutcomeStatus.RETRY, category, message)
    if category in HS_GONE:
        return outcome_for(OutcomeStatus.SKIPPED, category, message)
    return outcome_for(OutcomeStatus.DEAD, category, message)


def error_outcome(error: CrmsyncError) -> Outcome:
    """The outcome every action of a call gets when the whole call failed with ``error``."""
    if isinstance(error, RetriableError):
        return Outcome(OutcomeStatus.RETRY, code=error.code, message=str(error), retry_after=error.retry_after)
    if isinstance(error, PermanentRecordError):
        return Outcome(OutcomeStatus.DEAD, code=error.code, message=error.reason)
    if isinstance(error, SkippableError):
        return Outcome(OutcomeStatus.SKIPPED, code=error.code, message=error.reason)
    return Outcome(OutcomeStatus.RETRY, code=type(error).__name__, message=str(error))
