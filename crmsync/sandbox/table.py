"""The compact per-object table behind :class:`crmsync.sandbox.org.Org`, and Salesforce-style ids.

A record is a tuple over the columns its schema knew when the table was made, plus a small dict for fields
added later; equality indexes (value → ids) and range indexes (sorted (value, id) entries) follow every
write. Not thread-safe on its own: the org holds the lock.
"""

from __future__ import annotations

import bisect
import functools
import itertools
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from crmsync.sandbox.schema import ObjectSchema

Record = dict[str, Any]
"""A record as the store hands it out: vendor field name → Python value."""

_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def salesforce_id(prefix: str, number: int) -> str:
    """The 18-character case-safe Salesforce id for ``number`` under a 3-character key ``prefix``.

    The 15-character body is ``prefix + "Sb" + number`` (zero padded); the 3-character suffix is the
    documented checksum: one character per 5-character chunk, encoding which characters are upper case.
    """
    if len(prefix) != 3 or not 0 <= number < 10**10:
        raise ValueError("a Salesforce id needs a 3-character prefix and a number below 10**10")
    body = f"{prefix}Sb{number:010d}"
    return body + _checksum(body[:5]) + _checksum(body[5:10]) + _checksum(body[10:15])


@functools.lru_cache(maxsize=4096)
def _checksum(chunk: str) -> str:
    bits = 0
    for pos, char in enumerate(chunk):
        if "A" <= char <= "Z":
            bits |= 1 << pos
    return _SAFE[bits]


class Table:
    """The records of one object type (not thread-safe on its own: :class:`Org` holds the lock)."""

    def __init__(self, schema: ObjectSchema) -> None:
        self.schema = schema
        self.columns: tuple[str, ...] = tuple(schema.fields)
        self._col: dict[str, int] = {name: i for i, name in enumerate(self.columns)}
        self._rows: dict[str, tuple[Any, ...]] = {}
        self._extra: dict[str, dict[str, Any]] = {}
        self.deleted_at: dict[str, datetime] = {}
        self._index: dict[str, dict[Any, set[str]]] = {name: {} for name in schema.indexed}
        self._ranges: dict[str, _RangeIndex] = {name: _RangeIndex() for name in schema.ranged}

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._rows

    def ids(self) -> list[str]:
        """Every id, deleted included, in creation order."""
        return list(self._rows)

    def read(self, record_id: str) -> Record:
        """The record as a fresh dict (KeyError if unknown)."""
        rec = dict(zip(self.columns, self._rows[record_id], strict=True))
        extra = self._extra.get(record_id)
        if extra:
            rec.update(extra)
        return rec

    def value(self, record_id: str, name: str) -> Any:
        """One field of a record without building the dict (None when unset)."""
        pos = self._col.get(name)
        if pos is not None:
            return self._rows[record_id][pos]
        return self._extra.get(record_id, {}).get(name)

    def write(self, record_id: str, values: Mapping[str, Any]) -> None:
        """Set ``values`` on the record (created when new), keeping the indexes right (None is not indexed)."""
        old = self._rows.get(record_id)
        row = list(old) if old is not None else [None] * len(self.columns)
        col, indexes, ranges = self._col, self._index, self._ranges
        for name, val in values.items():
            pos = col.get(name)
            if name in indexes:
                before = (row[pos] if pos is not None else self.value(record_id, name)) if old is not None else None
                if before != val:
                    if before is not None:
                        indexes[name].get(before, set()).discard(record_id)
                    if val is not None:
                        indexes[name].setdefault(val, set()).add(record_id)
            if val is not None and name in ranges:
                ranges[name].add(val, record_id)
            if pos is not None:
                row[pos] = val
            else:
                self._extra.setdefault(record_id, {})[name] = val
        self._rows[record_id] = tuple(row)

    def find(self, name: str, value: Any) -> list[str]:
        """Ids whose indexed field ``name`` equals ``value`` (KeyError if the field is not indexed; a None
        ``value`` finds nothing)."""
        return sorted(self._index[name].get(value, ()))

    def scan(self, name: str, low: Any, high: Any) -> list[str]:
        """Ids whose range-indexed field ``name`` is within [low, high] (either may be None: open), in value
        order (KeyError if the field is not range-indexed)."""
        index = self._ranges[name]
        if index.stale > 2 * len(self._rows) + 1000:
            index.rebuild((self.value(rid, name), rid) for rid in self._rows)
        return index.scan(low, high, lambda rid: self.value(rid, name))


class _RangeIndex:
    """(value, id) entries appended on every write, sorted on demand; entries whose value is no longer the
    record's are skipped on a scan and dropped when the index is rebuilt."""

    def __init__(self) -> None:
        self.entries: list[tuple[Any, str]] = []
        self.ordered = True
        self.stale = 0

    def add(self, value: Any, record_id: str) -> None:
        if self.entries and self.ordered and value < self.entries[-1][0]:
            self.ordered = False
        self.entries.append((value, record_id))
        self.stale += 1

    def rebuild(self, pairs: Iterable[tuple[Any, str]]) -> None:
        self.entries = sorted(p for p in pairs if p[0] is not None)
        self.ordered = True
        self.stale = len(self.entries)

    def scan(self, low: Any, high: Any, current: Callable[[str], Any]) -> list[str]:
        if not self.ordered:
            self.entries.sort()
            self.ordered = True
        start = 0 if low is None else bisect.bisect_left(self.entries, (low, ""))
        out: list[str] = []
        seen: set[str] = set()
        for value, rid in itertools.islice(self.entries, start, None):
            if high is not None and value > high:
                break
            if rid not in seen and current(rid) == value:
                seen.add(rid)
                out.append(rid)
        return out
