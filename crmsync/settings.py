"""Typed settings, read once: ``CRMSYNC_*`` environment variables over an optional YAML settings file.

Precedence, highest first: environment variables, ``CRMSYNC_<NAME>_FILE`` (the value is read from that file,
for Docker and Kubernetes secrets), the settings file named by ``CRMSYNC_SETTINGS_FILE`` (default
``config/crmsync.yaml`` when it exists; it also lists the CRM ``connections``), then defaults.
Nested keys use ``__`` in environment variables (``CRMSYNC_HEALTH__PORT=9000``). Secrets are
:class:`pydantic.SecretStr`, whose repr is masked. Every problem is reported at once, as a
:class:`~crmsync.errors.ConfigError`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from crmsync.capture.settings import CaptureSettings
from crmsync.crm.config import ConnectionSettings
from crmsync.errors import ConfigError

ENV_PREFIX = "CRMSYNC_"
SETTINGS_FILE_VAR = "CRMSYNC_SETTINGS_FILE"
DEFAULT_SETTINGS_FILE = Path("config/crmsync.yaml")
"""Read when it exists and ``CRMSYNC_SETTINGS_FILE`` is not set (``config/crmsync.example.yaml`` shows it)."""


class HealthSettings(BaseModel):
    """Where ``/healthz``, ``/readyz`` and ``/metrics`` listen."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=9464, ge=0, le=65535)
    enabled: bool = True


class Settings(BaseSettings):
    """Everything crmsync reads from its environment; validated once at start-up."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    database_url: str = "sqlite:///./crmsync.db"
    policy_file: Path = Path("config/policies.yaml")
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "console"] = "auto"
    cycle_interval_s: float = Field(default=60.0, gt=0)
    capture_interval_s: float = Field(default=60.0, gt=0)
    health: HealthSettings = HealthSettings()
    lease_ttl_s: float = Field(default=30.0, gt=0)
    shutdown_grace_s: float = Field(default=20.0, gt=0)
    report_dir: Path | None = None
    connections: list[ConnectionSettings] = Field(default_factory=list)
    capture: CaptureSettings = CaptureSettings()

    @field_validator("connections")
    @classmethod
    def _unique_names(cls, value: list[ConnectionSettings]) -> list[ConnectionSettings]:
        names = [c.name for c in value]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"connection names must be unique: {', '.join(duplicated)}")
        for connection in value:  # every secret a connection carries is masked in log lines from now on
            for block in (connection.salesforce, connection.hubspot):
                if block is not None:
                    block.register()
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:// or postgresql:// URL")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            _FileVariableSource(settings_cls),
            _YamlFileSource(settings_cls),
        )


class _FileVariableSource(PydanticBaseSettingsSource):
    """``CRMSYNC_X_FILE=/run/secrets/x`` sets ``x`` to that file's contents (trailing newline dropped)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in self.settings_cls.model_fields:
            path = os.environ.get(f"{ENV_PREFIX}{name.upper()}_FILE")
            if path and f"{ENV_PREFIX}{name.upper()}" not in os.environ:
                try:
                    values[name] = Path(path).read_text(encoding="utf-8").rstrip("\n")
                except OSError as err:
                    raise ConfigError([f"{ENV_PREFIX}{name.upper()}_FILE: cannot read {path}: {err.strerror}"]) from err
        return values


class _YamlFileSource(PydanticBaseSettingsSource):
    """The YAML file named by ``CRMSYNC_SETTINGS_FILE``, if any."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get(SETTINGS_FILE_VAR)
        if not path:
            if not DEFAULT_SETTINGS_FILE.is_file():
                return {}
            path = str(DEFAULT_SETTINGS_FILE)
        try:
            data = YAML(typ="safe").load(Path(path).read_text(encoding="utf-8"))
        except OSError as err:
            raise ConfigError([f"{SETTINGS_FILE_VAR}: cannot read {path}: {err.strerror}"]) from err
        except YAMLError as err:
            raise ConfigError([f"{path}: not valid YAML: {err}"]) from err
        if data is None:
            return {}
        if not isinstance(data, Mapping):
            raise ConfigError([f"{path}: the settings file must be a mapping of setting names to values"])
        return dict(data)


def load_settings(**overrides: Any) -> Settings:
    """Read and validate settings; raise :class:`ConfigError` listing every problem, one per line."""
    try:
        return Settings(**overrides)
    except ValidationError as err:
        problems = []
        for error in err.errors():
            name = ".".join(str(part) for part in error["loc"]) or "settings"
            problems.append(f"{ENV_PREFIX}{name.upper().replace('.', '__')}: {error['msg']}")
        raise ConfigError(problems) from err
