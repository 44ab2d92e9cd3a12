"""``crmsync outbox list|retry|drop``: operators see and steer outbox rows; transitions follow the pure model."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crmsync.domain import Channel, Direction, Hide, LeadRef, LogActivity
from crmsync.outbox.dispatcher import wrap_payload
from crmsync.outbox.model import OutboxStatus
from crmsync.store import migrate
from crmsync.store.repositories import outbox as rows
from crmsync.store.repositories.outbox import NewOutboxRow
from crmsync.store.session import Database
from tests.cli.conftest import Run, write_settings

AT = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
BODY = "sentinel-mail-body-9d2e"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Path, Database]]:
    """A migrated store with a pending hide, a dead hide and a done activity log; and its settings file."""
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    migrate.upgrade(url)
    db = Database(url)
    lead = LeadRef("sf", "00Q1")
    hide = Hide(lead, "00G1", "0051", "not MQL")
    log = LogActivity(lead, "<m1@x>", "0051", Channel.EMAIL, Direction.OUTBOUND, AT, "Hello", BODY)
    with db.transaction() as session:
        rows.enqueue_many(session, [
            NewOutboxRow("sf", "sf/00Q1:hide:e0", "hide", "00Q1", wrap_payload(hide, None, "h1"), 0),
            NewOutboxRow("sf", "sf/00Q2:hide:e0", "hide", "00Q2", wrap_payload(hide, None, "h1"), 0),
            NewOutboxRow("sf", "sf/log:m1", "logactivity", "00Q1", wrap_payload(log, None, "h1"), 1),
        ], AT)  # fmt: skip
        dead = rows.get(session, "sf/00Q2:hide:e0")
        done = rows.get(session, "sf/log:m1")
        assert dead is not None
        assert done is not None
        rows.save(
            session, replace(dead.entry, status=OutboxStatus.DEAD, attempts=1, last_error="STRING_TOO_LONG: x"), AT
        )
        rows.save(session, replace(done.entry, status=OutboxStatus.DONE, attempts=1, done_at=AT), AT)
    yield write_settings(tmp_path, None, db_url=url), db
    db.dispose()


def _status(db: Database, key: str) -> tuple[OutboxStatus, int, str | None]:
    with db.transaction() as session:
        item = rows.get(session, key)
    assert item is not None
    return item.entry.status, item.entry.attempts, item.entry.last_error


def test_list_shows_rows_by_status_with_redacted_payloads(store: tuple[Path, Database], run_cli: Run) -> None:
    """list shows every row and the counts; --status filters; --payload never shows a mail body."""
    settings, _ = store
    code, out, _ = run_cli(settings, "outbox", "list")
    assert code == 0
    assert "sf/00Q1:hide:e0" in out
    assert "STRING_TOO_LONG" in out
    assert "3 rows shown; outbox: 1 dead, 1 done, 1 pending" in out
    code, out, _ = run_cli(settings, "outbox", "list", "--status", "dead", "--payload")
    assert code == 0
    assert "sf/00Q2:hide:e0" in out
    assert "sf/00Q1:hide:e0" not in out
    code, out, _ = run_cli(settings, "outbox", "list", "--payload", "--limit", "10")
    assert "Hello" in out
    assert BODY not in out


def test_retry_makes_a_dead_row_due_and_refuses_a_done_one(store: tuple[Path, Database], run_cli: Run) -> None:
    """retry KEY resets a dead row's attempts and makes it due; a finished row cannot be retried (exit 1)."""
    settings, db = store
    code, out, _ = run_cli(settings, "outbox", "retry", "sf/00Q2:hide:e0")
    assert code == 0
    assert "retry, due now" in out
    assert _status(db, "sf/00Q2:hide:e0")[:2] == (OutboxStatus.RETRY, 0)
    code, _, err = run_cli(settings, "outbox", "retry", "sf/log:m1")
    assert code == 1
    assert "only dead or retrying rows" in err
    assert _status(db, "sf/log:m1")[0] is OutboxStatus.DONE


def test_retry_all_dead_and_usage_errors(store: tuple[Path, Database], run_cli: Run) -> None:
    """--all-dead retries every dead row; giving neither a key nor --all-dead is a usage error (exit 2)."""
    settings, db = store
    code, out, _ = run_cli(settings, "outbox", "retry", "--all-dead")
    assert code == 0
    assert "1 dead rows made due again" in out
    assert _status(db, "sf/00Q2:hide:e0")[0] is OutboxStatus.RETRY
    code, _, _ = run_cli(settings, "outbox", "retry")
    assert code == 2


def test_drop_skips_a_row_with_the_operators_reason(store: tuple[Path, Database], run_cli: Run) -> None:
    """drop KEY --reason skips the row for good and keeps the reason; an unknown key fails with exit 1."""
    settings, db = store
    code, out, _ = run_cli(settings, "outbox", "drop", "sf/00Q1:hide:e0", "--reason", "lead merged by hand")
    assert code == 0
    assert "skipped" in out
    assert _status(db, "sf/00Q1:hide:e0") == (OutboxStatus.SKIPPED, 0, "dropped: lead merged by hand")
    code, _, err = run_cli(settings, "outbox", "drop", "nope", "--reason", "x")
    assert code == 1
    assert "no outbox row with key nope" in err
    code, _, err = run_cli(settings, "outbox", "drop", "sf/00Q1:hide:e0", "--reason", "again")
    assert code == 1
    assert "already skipped" in err
