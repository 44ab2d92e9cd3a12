"""Hot reload: new files take effect, broken ones are logged with their locations and the last good one stays."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from crmsync.errors import PolicyError
from crmsync.policy.loader import content_hash
from crmsync.policy.source import PolicySource


def write(path: Path, text: str, tick: int) -> None:
    """Write ``text`` and give the file a distinct modification time (``tick`` seconds into 2026)."""
    path.write_text(text)
    stamp = 1_767_225_600 + tick
    os.utime(path, (stamp, stamp))


@pytest.fixture
def policy_file(tmp_path: Path, policy_text: str) -> Path:
    """A valid policy file on disk."""
    path = tmp_path / "policies.yaml"
    write(path, policy_text, 0)
    return path


def test_loads_and_hashes(policy_file: Path) -> None:
    """The source loads the file at once and exposes the short hash of its bytes."""
    source = PolicySource(policy_file)
    assert source.digest == content_hash(policy_file.read_bytes())[:12]
    assert source.current.teams["sdr"].capacity.daily_leads == 20


def test_unchanged_file_is_not_reloaded(policy_file: Path) -> None:
    """Without a change refresh does nothing, even when forced to hash the same bytes."""
    source = PolicySource(policy_file)
    before = source.current
    assert source.refresh() is False
    assert source.refresh(force=True) is False
    assert source.current is before


def test_changed_file_is_reloaded(policy_file: Path, policy_text: str) -> None:
    """A valid change takes effect on the next refresh, with a new hash, and is logged."""
    source = PolicySource(policy_file)
    old = source.digest
    write(policy_file, policy_text.replace("leads_per_day: 40", "leads_per_day: 30"), 1)
    with capture_logs() as logs:
        assert source.refresh() is True
    assert source.current.teams["events"].capacity.daily_leads == 30
    assert source.digest != old
    assert logs == [
        {
            "event": "policy_reloaded",
            "log_level": "info",
            "path": str(policy_file),
            "policy_hash": source.digest,
            "previous": old,
        }
    ]


def test_broken_file_keeps_last_good(policy_file: Path, policy_text: str) -> None:
    """A broken file is refused once, logged with every located problem, and the last good policy stays."""
    source = PolicySource(policy_file)
    good, digest = source.current, source.digest
    broken = policy_text.replace("team: events}", "team: evnts}").replace("first_touch: 1h", "first_touch: soon")
    write(policy_file, broken, 1)
    with capture_logs() as logs:
        assert source.refresh() is False
        write(policy_file, broken, 2)
        assert source.refresh() is False  # same broken bytes: not logged again
    assert source.current is good
    assert source.digest == digest
    assert source.rejected == content_hash(broken.encode())[:12]
    assert len(logs) == 1
    event = logs[0]
    assert event["event"] == "policy_reload_failed"
    assert event["log_level"] == "error"
    assert event["kept"] == digest
    assert [p["text"] for p in event["problems"]] == [
        f"{policy_file}:11:93: routing[0].team: unknown team 'evnts' (did you mean 'events'?); teams: events, sdr",
        f"{policy_file}:16:18: sla[0].first_touch: bad duration 'soon': write a number with a unit: 30m, 1h, 2d, "
        "1h30m, or 'calendar 48h' for elapsed time",
    ]


def test_fixed_file_is_picked_up(policy_file: Path, policy_text: str) -> None:
    """After a broken file, the next valid one loads."""
    source = PolicySource(policy_file)
    write(policy_file, "version: [", 1)
    assert source.refresh() is False
    write(policy_file, policy_text.replace("min_touches_before_close: 5", "min_touches_before_close: 6"), 2)
    assert source.refresh() is True
    assert source.current.dispositions.min_touches_before_close == 6
    assert source.rejected is None


def test_missing_file_keeps_last_good(policy_file: Path) -> None:
    """A deleted file is logged once and the policy stays in force."""
    source = PolicySource(policy_file)
    policy_file.unlink()
    with capture_logs() as logs:
        assert source.refresh() is False
        assert source.refresh() is False
    assert source.current is not None
    assert [e["event"] for e in logs] == ["policy_unreadable"]


def test_first_load_must_succeed(tmp_path: Path) -> None:
    """A daemon cannot start on a broken policy: the first load raises PolicyError."""
    path = tmp_path / "policies.yaml"
    path.write_text("version: 1\n")
    with pytest.raises(PolicyError):
        PolicySource(path)
