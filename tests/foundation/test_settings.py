"""Settings are read from the environment, files and a settings file, and every problem is reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmsync.errors import ConfigError
from crmsync.settings import load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("CRMSYNC_") and name != "CRMSYNC_LOGGUARD_DIR":
            monkeypatch.delenv(name)


def test_defaults_point_at_a_local_sqlite_file() -> None:
    """Without any configuration crmsync uses ./crmsync.db and the shipped policy."""
    settings = load_settings()
    assert settings.database_url == "sqlite:///./crmsync.db"
    assert settings.policy_file == Path("config/policies.yaml")
    assert settings.health.host == "127.0.0.1"


def test_environment_overrides_nested_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """CRMSYNC_* variables set top-level and nested (double underscore) settings."""
    monkeypatch.setenv("CRMSYNC_DATABASE_URL", "postgresql://db/crm")
    monkeypatch.setenv("CRMSYNC_HEALTH__PORT", "9100")
    settings = load_settings()
    assert settings.database_url == "postgresql://db/crm"
    assert settings.health.port == 9100


def test_file_variant_reads_the_value_from_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """CRMSYNC_X_FILE reads X from a file (Docker secrets), without its trailing newline."""
    secret = tmp_path / "db"
    secret.write_text("postgresql://user:pw@db/crm\n")
    monkeypatch.setenv("CRMSYNC_DATABASE_URL_FILE", str(secret))
    assert load_settings().database_url == "postgresql://user:pw@db/crm"


def test_settings_file_is_read_and_environment_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The YAML settings file supplies values; an environment variable overrides the same key."""
    path = tmp_path / "crmsync.yaml"
    path.write_text("log_level: debug\ncycle_interval_s: 30\n")
    monkeypatch.setenv("CRMSYNC_SETTINGS_FILE", str(path))
    monkeypatch.setenv("CRMSYNC_CYCLE_INTERVAL_S", "15")
    settings = load_settings()
    assert settings.log_level == "debug"
    assert settings.cycle_interval_s == 15


def test_every_problem_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three bad values give one ConfigError listing all three, each named by its variable."""
    monkeypatch.setenv("CRMSYNC_DATABASE_URL", "mysql://x")
    monkeypatch.setenv("CRMSYNC_HEALTH__PORT", "99999")
    monkeypatch.setenv("CRMSYNC_LOG_LEVEL", "loud")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    names = sorted(p.split(":")[0] for p in caught.value.problems)
    assert names == ["CRMSYNC_DATABASE_URL", "CRMSYNC_HEALTH__PORT", "CRMSYNC_LOG_LEVEL"]


def test_unknown_key_in_settings_file_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A misspelt key in the settings file is reported rather than silently ignored."""
    path = tmp_path / "crmsync.yaml"
    path.write_text("databse_url: sqlite:///x.db\n")
    monkeypatch.setenv("CRMSYNC_SETTINGS_FILE", str(path))
    with pytest.raises(ConfigError, match="DATABSE_URL"):
        load_settings()


def test_cli_exits_2_with_every_settings_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    """A command that needs settings exits 2 and prints each problem on its own line of stderr."""
    import subprocess
    import sys

    monkeypatch.setenv("CRMSYNC_DATABASE_URL", "mysql://x")
    monkeypatch.setenv("CRMSYNC_LOG_LEVEL", "loud")
    done = subprocess.run(
        [sys.executable, "-m", "crmsync", "db", "current"], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "CRMSYNC_DATABASE_URL: Value error, must be a sqlite:// or postgresql:// URL",
        "CRMSYNC_LOG_LEVEL: Input should be 'debug', 'info', 'warning' or 'error'",
    ]


def test_connection_secrets_from_the_settings_file_are_masked_in_logs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A token read from the settings file's connections is registered with the redactor before any log line."""
    from crmsync.logging import redact

    token = "opaque-settings-secret-7c1d"  # matches no built-in pattern: only registration masks it
    path = tmp_path / "crmsync.yaml"
    path.write_text(f"connections:\n  - name: hs\n    vendor: hubspot\n    hubspot: {{token: {token}}}\n")
    monkeypatch.setenv("CRMSYNC_SETTINGS_FILE", str(path))
    settings = load_settings()
    assert settings.connections[0].name == "hs"
    event = redact(None, "info", {"event": f"calling with {token}"})
    assert token not in str(event["event"])
