"""How one CRM connection is configured: a pydantic model, validated once, secrets masked.

Every secret (``client_secret``, ``private_key``, ``password``, ``security_token``, ``session_id``, ``token``,
``refresh_token``) may be given inline, or as ``<name>_file`` (read from that file, for Docker/Kubernetes
secrets) or ``<name>_env`` (read from that environment variable). Resolved secrets are
:class:`pydantic.SecretStr` (masked repr) and registered with the log redactor.

Example (YAML, as the daemon's config file lists connections)::

    - name: acme-sf
      vendor: salesforce
      salesforce: {login_url: "https://acme.my.salesforce.com", auth: jwt, client_id: 3MVG9...,
                   username: integration@acme.com, private_key_file: /run/secrets/sf.key}
    - name: acme-hs
      vendor: hubspot
      hubspot: {token_env: HUBSPOT_TOKEN}
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from crmsync.domain import Vendor
from crmsync.errors import ConfigError
from crmsync.logging import register_secret

_SECRETS = ("client_secret", "private_key", "password", "security_token", "session_id", "token", "refresh_token")


def _resolve_secrets(data: Any) -> Any:
    """Turn ``<secret>_file`` / ``<secret>_env`` keys into the secret's value (before validation)."""
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for name in _SECRETS:
        path, env = out.pop(f"{name}_file", None), out.pop(f"{name}_env", None)
        if out.get(name) is not None:
            continue
        if path is not None:
            try:
                out[name] = Path(str(path)).read_text(encoding="utf-8").strip()
            except OSError as err:
                raise ValueError(f"{name}_file: cannot read {path}: {err.strerror}") from err
        elif env is not None:
            if str(env) not in os.environ:
                raise ValueError(f"{name}_env: environment variable {env} is not set")
            out[name] = os.environ[str(env)]
    return out


class _Secrets(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _secrets(cls, data: Any) -> Any:
        return _resolve_secrets(data)

    def register(self) -> None:
        """Mask every secret of this model in log lines from now on."""
        for name in _SECRETS:
            value = getattr(self, name, None)
            if isinstance(value, SecretStr):
                register_secret(value.get_secret_value())


class SalesforceSettings(_Secrets):
    """A Salesforce org. ``auth``: ``jwt`` (bearer, recommended), ``client_credentials`` (needs a My Domain
    ``login_url``), ``password`` (SOAP login with security token: being retired in Summer '27), or ``session``
    (a pre-issued session id and ``instance_url``, no refresh: for the sandbox and tests)."""

    auth: Literal["jwt", "client_credentials", "password", "session"] = "jwt"
    login_url: str = "https://login.salesforce.com"
    instance_url: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    username: str | None = None
    private_key: SecretStr | None = None
    password: SecretStr | None = None
    security_token: SecretStr | None = None
    session_id: SecretStr | None = None
    domain: str = "login"
    api_version: str = "59.0"
    ca_file: Path | None = None
    trust_env: bool = True

    @model_validator(mode="after")
    def _complete(self) -> SalesforceSettings:
        need = {
            "jwt": ("client_id", "username", "private_key"),
            "client_credentials": ("client_id", "client_secret"),
            "password": ("username", "password", "security_token"),
            "session": ("session_id", "instance_url"),
        }[self.auth]
        missing = [n for n in need if getattr(self, n) is None]
        if missing:
            raise ValueError(f"auth {self.auth} needs {', '.join(missing)}")
        return self


class HubSpotSettings(_Secrets):
    """A HubSpot portal: a private-app ``token``, or OAuth (``client_id``, ``client_secret``, ``refresh_token``)."""

    host: str = "https://api.hubapi.com"
    token: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = None
    ca_file: Path | None = None

    @model_validator(mode="after")
    def _complete(self) -> HubSpotSettings:
        oauth = (self.client_id, self.client_secret, self.refresh_token)
        if self.token is None and any(v is None for v in oauth):
            raise ValueError("give a private-app token, or client_id, client_secret and refresh_token")
        return self


class RetrySettings(BaseModel):
    """The in-call retry policy (see :mod:`crmsync.crm.retry`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: int = Field(default=5, ge=1, le=20)
    initial_s: float = Field(default=0.5, gt=0)
    max_wait_s: float = Field(default=30.0, gt=0)
    jitter: float = Field(default=0.25, ge=0, le=1)
    max_retry_after_s: float = Field(default=60.0, ge=0)


class BudgetSettings(BaseModel):
    """The API reserve and burst throttle (see :mod:`crmsync.crm.budget`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stop_at: float = Field(default=0.8, gt=0, le=1)
    burst_max: int | None = Field(default=None, ge=1)
    burst_window_s: float = Field(default=10.0, gt=0)
    search_per_s: int = Field(default=4, ge=1)
    exhausted_retry_after_s: float = Field(default=900.0, gt=0)


class ConnectionSettings(BaseModel):
    """One CRM connection. ``fields`` maps logical names to CRM names (the policy's ``fields`` go on top);
    ``extra_lead_fields`` are pulled into :attr:`Lead.fields` besides the defaults; ``holding_owner`` is what
    ``crmsync doctor`` checks exists (``queue:<name>``, an owner id, or an email)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    vendor: Vendor
    salesforce: SalesforceSettings | None = None
    hubspot: HubSpotSettings | None = None
    timeout_s: float = Field(default=30.0, gt=0)
    connect_timeout_s: float = Field(default=10.0, gt=0)
    retry: RetrySettings = RetrySettings()
    budget: BudgetSettings = BudgetSettings()
    fields: dict[str, str] = Field(default_factory=dict)
    extra_lead_fields: list[str] = Field(default_factory=list)
    holding_owner: str | None = None

    @model_validator(mode="after")
    def _vendor_block(self) -> ConnectionSettings:
        block = self.salesforce if self.vendor is Vendor.SALESFORCE else self.hubspot
        if block is None:
            raise ValueError(f"a {self.vendor} connection needs a '{self.vendor}' section")
        return self


def load_connection(data: dict[str, Any], where: str = "connection") -> ConnectionSettings:
    """Validate one connection's mapping; raise :class:`ConfigError` listing every problem with its path."""
    try:
        settings = ConnectionSettings.model_validate(data)
    except ValidationError as err:
        problems = [
            f"{where}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" if e["loc"] else f"{where}: {e['msg']}"
            for e in err.errors()
        ]
        raise ConfigError(problems) from err
    for block in (settings.salesforce, settings.hubspot):
        if block is not None:
            block.register()
    return settings


def load_connections(path: Path) -> list[ConnectionSettings]:
    """The connections of a YAML file (a list, or a mapping with a ``connections`` list); every problem at once."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError([f"{path}: cannot read: {err.strerror}"]) from err
    except YAMLError as err:
        raise ConfigError([f"{path}: not valid YAML: {err}"]) from err
    items = data.get("connections") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise ConfigError([f"{path}: expected a non-empty list of connections (or a 'connections:' list)"])
    found: list[ConnectionSettings] = []
    problems: list[str] = []
    for i, item in enumerate(items):
        try:
            found.append(load_connection(item if isinstance(item, dict) else {}, where=f"{path}: connections[{i}]"))
        except ConfigError as err:
            problems.extend(err.problems)
    names = [c.name for c in found]
    problems.extend(
        f"{path}: connection name {n!r} is used twice" for n in sorted({n for n in names if names.count(n) > 1})
    )
    if problems:
        raise ConfigError(problems)
    return found
