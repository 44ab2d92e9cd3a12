"""The deployment files are right by construction: the image runs crmsync as a non-root user with a health
check, compose migrates before it starts the daemon, and the example settings validate."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from crmsync.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile's final stage as (INSTRUCTION, arguments), continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    parsed = [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]
    last_from = max(i for i, (op, _) in enumerate(parsed) if op == "FROM")
    return parsed[last_from:]


def test_image_is_slim_python_311_and_runs_the_daemon_as_non_root() -> None:
    """The final stage is python:3.11-slim, switches to a named non-root USER, and its CMD is `crmsync run`."""
    stage = _instructions()
    assert stage[0] == ("FROM", "python:3.11-slim")
    users = [args for op, args in stage if op == "USER"]
    assert users, "the image must not run as root"
    assert users[-1].split(":")[0] not in ("root", "0")
    cmd = [args for op, args in stage if op == "CMD"]
    assert json.loads(cmd[-1]) == ["crmsync", "run"]
    assert [i for i, (op, _) in enumerate(stage) if op == "USER"][-1] < [
        i for i, (op, _) in enumerate(stage) if op == "CMD"
    ][-1]


def test_image_health_check_probes_healthz_and_migrations_ship() -> None:
    """HEALTHCHECK calls /healthz on the health port; the build checks the migrations are in the package."""
    stage = dict(_instructions())
    assert "/healthz" in stage["HEALTHCHECK"]
    assert "9464" in stage["HEALTHCHECK"]
    assert "CRMSYNC_HEALTH__HOST=0.0.0.0" in stage["ENV"]
    assert "script_location()" in (ROOT / "Dockerfile").read_text(encoding="utf-8")


def test_compose_runs_migrations_before_the_daemon_on_postgres() -> None:
    """docker-compose.yml: PostgreSQL, a `crmsync db upgrade` service, and the daemon waiting for it."""
    compose = YAML(typ="safe").load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["migrate"]["command"] == ["crmsync", "db", "upgrade"]
    assert services["crmsync"]["command"] == ["crmsync", "run"]
    assert services["crmsync"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_example_settings_validate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """config/crmsync.example.yaml loads as settings once its secret file and variable exist."""
    key = tmp_path / "sf.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nexample\n-----END PRIVATE KEY-----\n", encoding="utf-8")
    example = (ROOT / "config" / "crmsync.example.yaml").read_text(encoding="utf-8")
    settings_file = tmp_path / "crmsync.yaml"
    settings_file.write_text(example.replace("/run/secrets/sf_private_key.pem", str(key)), encoding="utf-8")
    monkeypatch.setenv("CRMSYNC_SETTINGS_FILE", str(settings_file))
    monkeypatch.setenv("HUBSPOT_TOKEN", "pat-na1-00000000-0000-example")
    settings = load_settings()
    assert [(c.name, c.vendor.value) for c in settings.connections] == [
        ("acme-sf", "salesforce"),
        ("acme-hs", "hubspot"),
    ]
    assert settings.health.host == "127.0.0.1"
    assert settings.lease_ttl_s == 30
