"""Vendor exceptions and per-record errors → crmsync errors and outcomes: total, and sorted by what to do."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from typing import Any

import hubspot
import pytest
import requests.exceptions
import simple_salesforce.exceptions as sfe
import urllib3.exceptions

from crmsync.crm.ports import OutcomeStatus
from crmsync.crm.translate import hs_error_outcome, is_vendor_error, sf_outcome, translate
from crmsync.errors import (
    AuthError,
    CrmsyncError,
    FatalError,
    PermanentRecordError,
    RateLimitedError,
    RetriableError,
    SkippableError,
)


def _exception_classes(module: Any) -> list[type[BaseException]]:
    return [
        c
        for _, c in inspect.getmembers(module, inspect.isclass)
        if issubclass(c, Exception) and not issubclass(c, Warning) and c.__module__ == module.__name__
    ]


def _hubspot_exception_classes() -> list[type[BaseException]]:
    found: list[type[BaseException]] = list(_exception_classes(importlib.import_module("hubspot.exceptions")))
    for info in pkgutil.walk_packages(hubspot.__path__, "hubspot."):
        if info.name.endswith(".exceptions"):
            module = importlib.import_module(info.name)
            found.extend(_exception_classes(module))
    return found


def _instance(cls: type[BaseException], status: int) -> BaseException:
    exc = cls.__new__(cls)
    for name, value in {"url": "https://x/y", "status": status, "resource_name": "Lead", "reason": "r",
                        "content": [{"errorCode": "X", "message": "m"}], "body": json.dumps({"category": "C"}),
                        "headers": {}, "response": None, "request": None, "pool": None, "code": None,
                        "auth_message": "m"}.items():  # fmt: skip
        try:
            setattr(exc, name, value)
        except AttributeError:
            continue
    return exc


VENDOR_CLASSES = (
    _exception_classes(sfe)
    + _hubspot_exception_classes()
    + _exception_classes(requests.exceptions)
    + _exception_classes(urllib3.exceptions)
)


def test_every_vendor_exception_class_is_enumerated() -> None:
    """The enumeration finds all simple-salesforce classes and every one of hubspot's ApiException copies."""
    names = {c.__name__ for c in VENDOR_CLASSES}
    assert {"SalesforceExpiredSession", "SalesforceOperationError", "SalesforceBulkV2LoadError"} <= names
    assert sum(1 for c in VENDOR_CLASSES if c.__name__ == "ApiException") >= 55
    assert {"MaxRetryError", "ReadTimeoutError", "ConnectTimeout", "SSLError"} <= names


@pytest.mark.parametrize("status", [0, 300, 400, 401, 403, 404, 409, 412, 418, 429, 500, 503])
def test_translation_is_total_over_every_installed_vendor_exception(status: int) -> None:
    """Every exception class of simple-salesforce, hubspot, requests and urllib3 maps to a crmsync error."""
    for cls in VENDOR_CLASSES:
        exc = _instance(cls, status)
        assert is_vendor_error(exc), cls
        assert isinstance(translate(exc), CrmsyncError), cls


def _sf(cls: type[sfe.SalesforceError], status: int, code: str) -> sfe.SalesforceError:
    return cls("https://x/services/data", status, "Lead", [{"errorCode": code, "message": "m"}])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("exc", "expected", "code"),
    [
        (_sf(sfe.SalesforceExpiredSession, 401, "INVALID_SESSION_ID"), AuthError, None),
        (sfe.SalesforceAuthenticationFailed("invalid_grant", "bad"), AuthError, None),
        (_sf(sfe.SalesforceRefusedRequest, 403, "REQUEST_LIMIT_EXCEEDED"), RateLimitedError, "REQUEST_LIMIT_EXCEEDED"),
        (_sf(sfe.SalesforceRefusedRequest, 403, "INSUFFICIENT_ACCESS"), FatalError, None),
        (_sf(sfe.SalesforceMalformedRequest, 400, "UNABLE_TO_LOCK_ROW"), RetriableError, "UNABLE_TO_LOCK_ROW"),
        (_sf(sfe.SalesforceMalformedRequest, 400, "FIELD_CUSTOM_VALIDATION_EXCEPTION"), PermanentRecordError,
         "FIELD_CUSTOM_VALIDATION_EXCEPTION"),
        (_sf(sfe.SalesforceMalformedRequest, 400, "INVALID_FIELD"), FatalError, None),
        (_sf(sfe.SalesforceResourceNotFound, 404, "NOT_FOUND"), PermanentRecordError, "NOT_FOUND"),
        (_sf(sfe.SalesforceGeneralError, 503, "SERVER_UNAVAILABLE"), RetriableError, "SERVER_UNAVAILABLE"),
        (_sf(sfe.SalesforceGeneralError, 412, "PRECONDITION_FAILED"), SkippableError, "PRECONDITION_FAILED"),
        (requests.exceptions.ReadTimeout(), RetriableError, "ReadTimeout"),
        (requests.exceptions.ConnectionError(), RetriableError, "ConnectionError"),
        (requests.exceptions.SSLError(), FatalError, None),
        (urllib3.exceptions.MaxRetryError(None, "/", urllib3.exceptions.NewConnectionError(None, "refused")),  # type: ignore[arg-type]
         RetriableError, "NewConnectionError"),
        (urllib3.exceptions.ReadTimeoutError(None, "/", "slow"), RetriableError, "ReadTimeoutError"),  # type: ignore[arg-type]
    ],
    ids=["sf-expired", "sf-auth-failed", "sf-quota", "sf-permission", "sf-lock", "sf-validation", "sf-bad-field",
         "sf-not-found", "sf-503", "sf-412", "read-timeout", "refused", "tls", "u3-refused", "u3-timeout"],
)  # fmt: skip
def test_salesforce_and_network_errors_sort_by_what_to_do(exc: BaseException, expected: type, code: str | None) -> None:
    """Each error class lands in the branch of the tree that tells the caller what to do."""
    error = translate(exc)
    assert type(error) is expected
    if code is not None:
        assert getattr(error, "code", None) == code


def _hs(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> BaseException:
    from hubspot.crm.objects.notes import ApiException

    exc = ApiException(status=status, reason="r")
    exc.body = json.dumps(body)
    exc.headers = headers or {}
    return exc


@pytest.mark.parametrize(
    ("exc", "expected", "code"),
    [
        (_hs(429, {"policyName": "SECONDLY"}, {"Retry-After": "2"}), RateLimitedError, "SECONDLY"),
        (_hs(429, {"policyName": "DAILY"}), RateLimitedError, "DAILY"),
        (_hs(401, {"category": "INVALID_AUTHENTICATION"}), AuthError, None),
        (_hs(403, {"category": "MISSING_SCOPES"}), FatalError, None),
        (_hs(400, {"category": "VALIDATION_ERROR", "message": "bad"}), PermanentRecordError, "VALIDATION_ERROR"),
        (_hs(502, {}), RetriableError, None),
        (_hs(0, {}), RetriableError, None),
    ],
    ids=["secondly", "daily", "unauthorized", "forbidden", "validation", "bad-gateway", "tls-or-parse"],
)
def test_hubspot_api_exceptions_of_any_subpackage_map_by_status(
    exc: BaseException, expected: type, code: str | None
) -> None:
    """An ApiException from any sub-package (here: notes) maps by its status and policy."""
    error = translate(exc)
    assert type(error) is expected
    if code is not None:
        assert getattr(error, "code", None) == code


def test_retry_after_header_is_carried() -> None:
    """A 429's Retry-After header becomes the error's retry_after."""
    error = translate(_hs(429, {"policyName": "SECONDLY"}, {"Retry-After": "2"}))
    assert isinstance(error, RetriableError)
    assert error.retry_after == 2.0


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("UNABLE_TO_LOCK_ROW", OutcomeStatus.RETRY),
        ("FIELD_CUSTOM_VALIDATION_EXCEPTION", OutcomeStatus.DEAD),
        ("INVALID_CROSS_REFERENCE_KEY", OutcomeStatus.DEAD),
        ("ENTITY_IS_DELETED", OutcomeStatus.SKIPPED),
        ("CANNOT_UPDATE_CONVERTED_LEAD", OutcomeStatus.SKIPPED),
        ("SOMETHING_NEW", OutcomeStatus.DEAD),
    ],
    ids=["lock", "validation", "cross-reference", "deleted", "converted", "unknown"],
)
def test_salesforce_record_status_codes_become_outcomes(code: str, status: OutcomeStatus) -> None:
    """A collections result row's statusCode decides retry, dead-letter or skip, keeping the CRM's message."""
    outcome = sf_outcome({"success": False, "errors": [{"statusCode": code, "message": "because", "fields": []}]})
    assert (outcome.status, outcome.code, outcome.message) == (status, code, "because")
    assert sf_outcome({"id": "00Q1", "success": True, "errors": []}).status is OutcomeStatus.DONE


@pytest.mark.parametrize(
    ("category", "status"),
    [
        ("RATE_LIMITS", OutcomeStatus.RETRY),
        ("LOCKED", OutcomeStatus.RETRY),
        ("VALIDATION_ERROR", OutcomeStatus.DEAD),
        ("OBJECT_NOT_FOUND", OutcomeStatus.SKIPPED),
    ],
    ids=["rate", "locked", "validation", "not-found"],
)
def test_hubspot_batch_errors_become_outcomes(category: str, status: OutcomeStatus) -> None:
    """A 207 error entry's category decides the outcome of the inputs it names."""
    assert hs_error_outcome({"status": "error", "category": category, "message": "m"}).status is status
