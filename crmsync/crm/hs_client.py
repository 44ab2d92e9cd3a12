"""hubspot-api-client, tamed: API objects built once, a timeout on every call, SDK retries off, one call path.

Every property access like ``client.crm.contacts.basic_api`` builds a new ApiClient and connection pool, so
:class:`HubSpotApi` takes each API object once at start-up and reuses it. The SDK's urllib3 retries are off
(``retry=False``: it would not retry POST anyway, and would hide 429s); :meth:`HubSpotApi.call` applies the
budget, the one retry policy and the translation of the ~60 unrelated ``ApiException`` classes, and reads the
rate-limit headers of every answer (``*_with_http_info``). With OAuth, a 401 refreshes the access token once
per call (bounded) and sets it on every API object.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import structlog
from hubspot import Client

from crmsync.clock import Clock
from crmsync.crm.budget import ApiBudget
from crmsync.crm.config import HubSpotSettings
from crmsync.crm.retry import RetryPolicy
from crmsync.crm.translate import DAILY_QUOTA_CODES, is_vendor_error, translate
from crmsync.errors import AuthError, CrmsyncError, RateLimitedError
from crmsync.logging import register_secret
from crmsync.outbox.model import Priority

log = structlog.get_logger(__name__)
ACTIVITY_TYPES = ("emails", "calls", "meetings", "tasks")


class HubSpotApi:
    """The API objects of one portal and the single path every call takes."""

    def __init__(
        self,
        settings: HubSpotSettings,
        *,
        clock: Clock,
        budget: ApiBudget,
        retry: RetryPolicy,
        timeout: tuple[float, float],
        max_refreshes: int = 1,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._budget = budget
        self._retry = retry
        self._timeout = timeout
        self._max_refreshes = max_refreshes
        self._expires_at: datetime | None = None
        self.refreshes = 0
        options: dict[str, Any] = {"host": settings.host.rstrip("/"), "retry": False}
        if settings.ca_file:
            options["ssl_ca_cert"] = str(settings.ca_file)
        token = settings.token.get_secret_value() if settings.token else None
        client = Client.create(access_token=token, **options)
        crm = client.crm
        self.contacts_search = crm.contacts.search_api
        self.contacts_basic = crm.contacts.basic_api
        self.contacts_batch = crm.contacts.batch_api
        self.owners = crm.owners.owners_api
        self.search = {t: getattr(crm.objects, t).search_api for t in ACTIVITY_TYPES}
        self.batch = {t: getattr(crm.objects, t).batch_api for t in ACTIVITY_TYPES}
        self.basic = {t: getattr(crm.objects, t).basic_api for t in ACTIVITY_TYPES}
        self.associations = crm.associations.v4.batch_api
        self.properties = crm.properties.core_api
        self.tokens = client.oauth.tokens_api
        self._apis: list[Any] = [
            self.contacts_search, self.contacts_basic, self.contacts_batch, self.owners, self.associations,
            self.properties, *self.search.values(), *self.batch.values(), *self.basic.values(),
        ]  # fmt: skip
        self._token_set = token is not None

    @property
    def oauth(self) -> bool:
        """Whether this portal is reached with OAuth (refreshable) rather than a private-app token."""
        return self._settings.token is None

    def _refresh(self) -> None:
        """Trade the refresh token for a new access token and give it to every API object."""
        s = self._settings
        assert s.client_secret is not None
        assert s.refresh_token is not None
        self._budget.before_call("oauth.token")
        try:
            answer = self.tokens.create(
                grant_type="refresh_token",
                client_id=s.client_id,
                client_secret=s.client_secret.get_secret_value(),
                refresh_token=s.refresh_token.get_secret_value(),
                _request_timeout=self._timeout,
            )
        except Exception as exc:
            if is_vendor_error(exc):
                raise AuthError("HubSpot refused the OAuth refresh") from exc
            raise
        token = str(answer.access_token)
        register_secret(token)
        self._expires_at = self._clock.now() + timedelta(seconds=max(int(answer.expires_in or 1800) - 60, 60))
        for api in self._apis:
            api.api_client.configuration.access_token = token
        self._token_set = True

    def call(
        self,
        endpoint: str,
        fn: Callable[..., Any],
        *args: Any,
        priority: int = Priority.SLA,
        search: bool = False,
        retry: bool = True,
        raw: bool = False,
        **kwargs: Any,
    ) -> tuple[Any, int]:
        """Call ``fn`` (an SDK ``*_with_http_info`` method); return (data, HTTP status).

        Raises only crmsync errors. With ``retry=False`` the call is tried once (callers that must
        reconcile before trying again, like creates, run their own loop under :attr:`retry_policy`).
        With ``raw=True`` the answer is the parsed JSON (plain dicts, camelCase keys) instead of SDK models:
        the models parse every timestamp with dateutil, which costs ~0.8 ms a record on big reads.
        """
        if raw:
            kwargs["_preload_content"] = False

        def attempt() -> tuple[Any, int]:
            return self._attempt(endpoint, fn, args, kwargs, priority, search)

        return self._retry.call(attempt, endpoint=endpoint) if retry else attempt()

    @property
    def retry_policy(self) -> RetryPolicy:
        """The connection's retry policy."""
        return self._retry

    def _attempt(
        self,
        endpoint: str,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        priority: int,
        search: bool,
    ) -> tuple[Any, int]:
        refreshes = 0
        while True:
            if self.oauth and (not self._token_set or (self._expires_at and self._clock.now() >= self._expires_at)):
                self._refresh()
            self._budget.before_call(endpoint, priority, search=search)
            try:
                answer = fn(*args, _request_timeout=self._timeout, **kwargs)
                data, status, headers = _unpack(answer) if kwargs.get("_preload_content") is False else answer
            except Exception as exc:
                error = self._failed(exc)
                if isinstance(error, AuthError) and self.oauth and refreshes < self._max_refreshes:
                    refreshes += 1
                    self.refreshes += 1
                    log.info("hubspot_token_refresh", endpoint=endpoint)
                    self._refresh()
                    continue
                raise error from exc
            self._budget.observe(headers)
            return data, status

    def _failed(self, exc: Exception) -> CrmsyncError:
        if isinstance(exc, CrmsyncError):
            return exc
        if not is_vendor_error(exc):
            raise exc
        self._budget.observe(getattr(exc, "headers", None))
        error = translate(exc)
        if isinstance(error, RateLimitedError) and error.code in DAILY_QUOTA_CODES:
            self._budget.mark_exhausted()
        return error


def _unpack(response: Any) -> tuple[Any, int, Any]:
    """(parsed JSON, status, headers) of a raw urllib3 response (``_preload_content=False``)."""
    try:
        body = response.data
    finally:
        response.release_conn()
    return (json.loads(body) if body else None), int(response.status), response.headers
