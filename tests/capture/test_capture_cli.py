"""``crmsync capture --once`` from a settings file: reads the sources, logs touches in the CRM, prints counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from crmsync.cli import app
from crmsync.cli.common import run_guarded
from crmsync.domain import Vendor
from tests.capture import servers
from tests.capture.conftest import make_message
from tests.capture.crm_floor import CONNECTION, LEADS, CaptureFloor, FloorFactory, make_floor
from tests.capture.test_imap import append

__all__ = ["make_floor"]

pytestmark = pytest.mark.imap


def settings_file(tmp_path: Path, floor: CaptureFloor, sources: list[dict[str, Any]]) -> Path:
    """A settings YAML for the floor's store, policy and connection, with ``sources``."""
    data = {
        "database_url": floor.db_url,
        "policy_file": str(floor.policy_file),
        "connections": [floor.raw_settings],
        "capture": {"sources": sources},
    }
    path = tmp_path / "crmsync.yaml"
    with path.open("w") as out:
        YAML(typ="safe").dump(data, out)
    return path


def mailbox(dovecot: servers.Dovecot, login: str, **kw: Any) -> dict[str, Any]:
    """The rep's mailbox as a settings entry (password from the environment)."""
    entry = {"kind": "imap", "connection": CONNECTION, "name": "ana-mail", "host": "127.0.0.1", "tls": "none",
             "port": dovecot.port, "username": login, "password": {"env": "CAPTURE_TEST_PW"}}  # fmt: skip
    entry.update(kw)
    return entry


@pytest.mark.parametrize("vendor", [Vendor.SALESFORCE, Vendor.HUBSPOT], ids=["salesforce", "hubspot"])
def test_capture_once_logs_and_prints_counts(
    make_floor: FloorFactory,
    dovecot: servers.Dovecot,
    mailbox_login: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    vendor: Vendor,
) -> None:
    """Run twice: the first run logs the one touch and says so, the second reads nothing and logs nothing more."""
    floor = make_floor(vendor, mailbox_login)
    append(dovecot, mailbox_login, "Sent", [make_message(sender=mailbox_login, to=[LEADS[0]])])
    monkeypatch.setenv("CRMSYNC_SETTINGS_FILE", str(settings_file(tmp_path, floor, [mailbox(dovecot, mailbox_login)])))
    monkeypatch.setenv("CAPTURE_TEST_PW", servers.PASSWORD)
    assert run_guarded(app, ["capture", "--once"]) == 0
    assert run_guarded(app, ["capture", "--once", "--connection", CONNECTION]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{CONNECTION}: 1 sources read; 1 items, 1 touches matched, 1 new; logged 1,")
    assert lines[1].startswith(f"{CONNECTION}: 1 sources read; 0 items, 0 touches matched, 0 new; logged 0,")
    assert len(floor.logged()) == 1


def test_failed_source_exits_1_and_unknown_connection_exits_2(
    make_floor: FloorFactory,
    dovecot: servers.Dovecot,
    mailbox_login: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A source whose folder is missing fails the run (exit 1); a source naming no configured connection is exit 2."""
    floor = make_floor(Vendor.SALESFORCE, mailbox_login)
    monkeypatch.setenv("CAPTURE_TEST_PW", servers.PASSWORD)
    broken = mailbox(dovecot, mailbox_login, folders=["Nope"])
    monkeypatch.setenv("CRMSYNC_SETTINGS_FILE", str(settings_file(tmp_path, floor, [broken])))
    assert run_guarded(app, ["capture", "--once"]) == 1
    assert "1 failed: ana-mail" in capsys.readouterr().out
    stray = mailbox(dovecot, mailbox_login, connection="elsewhere")
    monkeypatch.setenv("CRMSYNC_SETTINGS_FILE", str(settings_file(tmp_path, floor, [stray])))
    assert run_guarded(app, ["capture", "--once"]) == 2
    assert "unknown connection 'elsewhere'" in capsys.readouterr().err
    assert run_guarded(app, ["capture"]) == 2
