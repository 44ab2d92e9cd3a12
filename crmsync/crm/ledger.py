"""The activity key ledger: what makes creating a HubSpot activity object idempotent across crashes.

HubSpot has no upsert-with-associations for activity objects, so the adapter writes its intent first:

1. ``begin(keys)`` before the create call (the key is the capture key, or a task's derived key);
2. ``complete(key, crm_id)`` when the create answered with the new object's id.

A key found *pending* (begun, never completed: the process died between the create and the ledger write, or
the call timed out) is reconciled before anything is created again: the adapter reads the objects whose key
property holds that key and completes the entry if one exists. So an activity is never created twice.

The store implements :class:`ActivityLedger` on its own table; :class:`InMemoryLedger` serves tests and the
sandbox demo.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One key's state: ``crm_id`` is None while the create is pending (begun, not confirmed)."""

    key: str
    crm_id: str | None = None

    @property
    def pending(self) -> bool:
        """Begun but not confirmed: must be reconciled before creating again."""
        return self.crm_id is None


class ActivityLedger(Protocol):
    """Durable per-connection record of activity creates (implemented by the store)."""

    def lookup(self, connection: str, keys: Sequence[str]) -> dict[str, LedgerEntry]:
        """The entries known for ``keys`` (absent keys were never begun)."""
        ...

    def begin(self, connection: str, keys: Iterable[str]) -> None:
        """Record the intent to create these keys (idempotent; a completed key stays completed)."""
        ...

    def complete(self, connection: str, key: str, crm_id: str) -> None:
        """Record that ``key`` exists in the CRM as ``crm_id``."""
        ...


class InMemoryLedger:
    """A process-local :class:`ActivityLedger` (tests, the demo). ``fail_complete`` simulates a crash."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], LedgerEntry] = {}
        self._lock = threading.Lock()
        self.fail_complete = False

    def lookup(self, connection: str, keys: Sequence[str]) -> dict[str, LedgerEntry]:
        with self._lock:
            return {k: e for k in keys if (e := self._entries.get((connection, k))) is not None}

    def begin(self, connection: str, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                self._entries.setdefault((connection, key), LedgerEntry(key))

    def complete(self, connection: str, key: str, crm_id: str) -> None:
        if self.fail_complete:
            raise RuntimeError("simulated crash before the ledger write")
        with self._lock:
            self._entries[(connection, key)] = LedgerEntry(key, crm_id)
