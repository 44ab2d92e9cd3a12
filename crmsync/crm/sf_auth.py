"""Salesforce sessions: a requests Session with default timeouts, and the OAuth flows that yield a token.

simple-salesforce sets no timeout and cannot take one on create/update calls, so the :class:`TimeoutAdapter`
mounted on the session gives every request a default one. ``trust_env=False`` (configurable) keeps
``REQUESTS_CA_BUNDLE`` from overriding the configured CA file.

Authentication is done here, not by simple-salesforce (whose refresh-and-retry drops custom headers and can
recurse without bound): :func:`login` returns an access token and instance URL, and the adapter builds a
``Salesforce`` client in "direct" mode on them, refreshing through :func:`login` itself when a call gets 401.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
import requests
import structlog
from requests.adapters import HTTPAdapter

from crmsync.clock import Clock
from crmsync.crm.config import SalesforceSettings
from crmsync.crm.translate import is_vendor_error, translate
from crmsync.errors import AuthError
from crmsync.logging import register_secret

log = structlog.get_logger(__name__)
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class TimeoutAdapter(HTTPAdapter):
    """An HTTPAdapter that applies ``timeout`` to every request that does not set its own."""

    def __init__(self, timeout: tuple[float, float], **kwargs: Any) -> None:
        self.timeout = timeout
        super().__init__(**kwargs)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


def make_session(
    *, connect_timeout: float, read_timeout: float, ca_file: str | None, trust_env: bool
) -> requests.Session:
    """A Session whose every request has a (connect, read) timeout, verifying TLS against ``ca_file`` if given."""
    session = requests.Session()
    adapter = TimeoutAdapter((connect_timeout, read_timeout))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.trust_env = trust_env
    if ca_file:
        session.verify = ca_file
    return session


@dataclass(frozen=True, slots=True)
class Token:
    """An access token and the instance it is valid for."""

    access_token: str
    instance_url: str


def login(settings: SalesforceSettings, session: requests.Session, clock: Clock) -> Token:
    """Authenticate per ``settings.auth``; raise :class:`AuthError` when the org refuses."""
    match settings.auth:
        case "session":
            assert settings.session_id is not None
            assert settings.instance_url is not None
            return Token(settings.session_id.get_secret_value(), settings.instance_url)
        case "jwt":
            return _oauth(settings, session, {"grant_type": JWT_GRANT, "assertion": _assertion(settings, clock)})
        case "client_credentials":
            assert settings.client_id is not None
            assert settings.client_secret is not None
            auth = (settings.client_id, settings.client_secret.get_secret_value())
            return _oauth(settings, session, {"grant_type": "client_credentials"}, auth=auth)
        case "password":
            return _soap(settings, session)


def _assertion(settings: SalesforceSettings, clock: Clock) -> str:
    assert settings.private_key is not None
    audience = "https://test.salesforce.com" if "test.salesforce" in settings.login_url else None
    claims = {
        "iss": settings.client_id,
        "sub": settings.username,
        "aud": audience or _audience(settings.login_url),
        "exp": int((clock.now() + timedelta(minutes=3)).timestamp()),
    }
    return jwt.encode(claims, settings.private_key.get_secret_value(), algorithm="RS256")


def _audience(login_url: str) -> str:
    """Salesforce wants login.salesforce.com (or test.) as audience, also for My Domain logins."""
    if login_url.rstrip("/").endswith(".salesforce.com"):
        return "https://login.salesforce.com"
    return login_url.rstrip("/")


def _oauth(
    settings: SalesforceSettings, session: requests.Session, data: dict[str, str], auth: tuple[str, str] | None = None
) -> Token:
    url = settings.login_url.rstrip("/") + "/services/oauth2/token"
    try:
        response = session.post(url, data=data, auth=auth)
    except requests.RequestException as exc:
        raise translate(exc) from exc
    body = _json(response)
    if response.status_code != 200 or "access_token" not in body:
        code = body.get("error") or response.status_code
        log.warning("salesforce_login_refused", flow=settings.auth, code=code)
        raise AuthError(f"Salesforce refused the {settings.auth} login ({code})")
    token = str(body["access_token"])
    register_secret(token)
    return Token(token, str(body.get("instance_url") or settings.instance_url or settings.login_url))


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        parsed = response.json()
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _soap(settings: SalesforceSettings, session: requests.Session) -> Token:
    from simple_salesforce.login import SalesforceLogin

    warnings.warn(
        "Salesforce username/password/token login uses SOAP login(), which Salesforce retires in Summer '27; "
        "switch this connection to auth: jwt or client_credentials",
        DeprecationWarning,
        stacklevel=3,
    )
    log.warning("salesforce_soap_login_deprecated", username_set=settings.username is not None)
    assert settings.password is not None
    assert settings.security_token is not None
    try:
        session_id, instance = SalesforceLogin(
            session=session,
            username=settings.username,
            password=settings.password.get_secret_value(),
            security_token=settings.security_token.get_secret_value(),
            domain=settings.domain,
            sf_version=settings.api_version,
        )
    except Exception as exc:
        if is_vendor_error(exc):
            raise translate(exc) from exc
        raise
    register_secret(session_id)
    return Token(session_id, f"https://{instance}")
