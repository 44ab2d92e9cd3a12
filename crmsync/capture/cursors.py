"""How far capture has read each mailbox folder and calendar: the cursor port and an in-memory version.

A cursor is kept per (connection, source, folder). IMAP folders use ``uidvalidity`` and ``last_uid``;
calendars keep their own opaque state (sync token and how far held meetings were checked) in
``sync_token``. The columns match the store's ``capture_cursors`` table. A cursor is written only after the
activities read up to it were stored, so a crash in between makes capture read some messages again, which
the capture key de-duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Cursor:
    """A position in one folder or calendar."""

    uidvalidity: int | None = None
    last_uid: int | None = None
    sync_token: str | None = None


class CursorStore(Protocol):
    """Where cursors persist (the store's ``capture_cursors`` repository implements it)."""

    def get_cursor(self, connection: str, source: str, folder: str) -> Cursor | None:
        """The saved cursor, or ``None`` when this folder was never read."""
        ...

    def set_cursor(self, connection: str, source: str, folder: str, cursor: Cursor) -> None:
        """Save ``cursor`` (durably, before returning)."""
        ...


class InMemoryCursorStore:
    """A :class:`CursorStore` in a dict, for tests and one-shot runs."""

    def __init__(self) -> None:
        self.cursors: dict[tuple[str, str, str], Cursor] = {}

    def get_cursor(self, connection: str, source: str, folder: str) -> Cursor | None:
        return self.cursors.get((connection, source, folder))

    def set_cursor(self, connection: str, source: str, folder: str, cursor: Cursor) -> None:
        self.cursors[(connection, source, folder)] = cursor
