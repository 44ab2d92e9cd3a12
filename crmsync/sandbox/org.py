"""The in-memory record store behind one sandbox CRM (a Salesforce org or a HubSpot portal).

One :class:`Org` per vendor. It is a dict of object type → id → record, where a record is a flat mapping of
the vendor's own field names (Salesforce ``FirstName``, HubSpot ``firstname``) to Python values:
``str | int | float | bool | datetime | date | None``. Datetimes are timezone-aware UTC; the servers format
them on the wire (Salesforce ``2026-03-02T14:00:00.000+0000``, HubSpot strings). Which fields exist, their
types and picklists is :mod:`crmsync.sandbox.schema`; how the simulation's vendor-neutral people and
touches become records is :mod:`crmsync.sandbox.mapping`.

Contracts:

- **Thread-safe.** Every public method takes ``org.lock`` (an ``RLock``); a server that needs several
  calls to be atomic (an all-or-none collection) holds ``with org.lock:`` around them.
- **Copies out.** Reads return fresh dicts; mutating one never changes the store.
- **Stamps on every change** per :class:`VendorRules`: create sets the created/modified/system fields,
  an update sets the modified fields (only the system ones when ``system=True``), a delete keeps the record,
  flags it (``IsDeleted``; HubSpot's ``archived``) and remembers when, for queryAll / getDeleted /
  ``archived=true``. ``now`` defaults to the org's clock, so a simulation can back-date history.
- **Compact.** A record is a tuple over the columns its schema knew when the table was made, plus a small
  dict for fields added later, so 100,000 leads and a year of activities fit in a few hundred MB.
- **Indexed lookups** on the fields the schema names (owner, WhoId, external ids, email): :meth:`Org.find`.
- **Ids** are Salesforce-style 18-character ids with the real case-safe suffix (prefix ``00Q`` Lead,
  ``005`` User, ``00G`` Group, ``00T`` Task, ``00U`` Event) or HubSpot numeric strings.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crmsync.clock import Clock
from crmsync.domain.model import Vendor
from crmsync.sandbox.schema import ObjectSchema
from crmsync.sandbox.table import Record, Table, salesforce_id

__all__ = ["HUBSPOT_RULES", "SALESFORCE_RULES", "Org", "Record", "Table", "VendorRules", "salesforce_id"]


@dataclass(frozen=True, slots=True)
class VendorRules:
    """Which fields the store maintains itself for one vendor.

    ``id_field`` receives the record id; ``created_fields`` are set once at creation; ``modified_fields``
    on every user/API change; ``system_fields`` on every change, including system ones and deletes;
    ``deleted_field`` (if any) becomes True on delete. ``archived_field`` (HubSpot) is set to the delete time.
    """

    vendor: Vendor
    id_field: str
    created_fields: tuple[str, ...]
    modified_fields: tuple[str, ...]
    system_fields: tuple[str, ...]
    deleted_field: str | None = None
    archived_field: str | None = None


SALESFORCE_RULES = VendorRules(
    vendor=Vendor.SALESFORCE,
    id_field="Id",
    created_fields=("CreatedDate",),
    modified_fields=("LastModifiedDate",),
    system_fields=("SystemModstamp",),
    deleted_field="IsDeleted",
)
HUBSPOT_RULES = VendorRules(
    vendor=Vendor.HUBSPOT,
    id_field="hs_object_id",
    created_fields=("createdate", "hs_createdate"),
    modified_fields=("lastmodifieddate", "hs_lastmodifieddate"),
    system_fields=(),
    archived_field="archivedAt",
)


class Org:
    """One vendor's CRM data: tables of records, plus HubSpot-style associations between records.

    ``clock`` gives the default ``now`` for stamps (the simulation's clock in the sandbox).
    """

    def __init__(self, rules: VendorRules, schemas: Iterable[ObjectSchema], clock: Clock, *, id_base: int = 1) -> None:
        self.rules = rules
        self.vendor = rules.vendor
        self.clock = clock
        self.lock = threading.RLock()
        self.tables: dict[str, Table] = {s.name: Table(s) for s in schemas}
        self._next: dict[str, int] = {}
        self._id_base = id_base
        self._assoc: dict[tuple[str, str], list[tuple[str, str, int]]] = {}
        self.listeners: list[Callable[[str, str, Mapping[str, Any]], None]] = []
        """Called under the lock after every write with (object, id, the values written incl. stamps)."""

    # -- schema -------------------------------------------------------------------------------------------
    def schema(self, obj: str) -> ObjectSchema:
        """The schema of object type ``obj`` (KeyError if the org has no such type)."""
        return self.tables[obj].schema

    def has(self, obj: str) -> bool:
        """Whether the org knows object type ``obj``."""
        return obj in self.tables

    # -- ids ----------------------------------------------------------------------------------------------
    def new_id(self, obj: str) -> str:
        """A fresh id for a record of ``obj``: 18-char Salesforce ids, numeric strings for HubSpot."""
        with self.lock:
            schema = self.tables[obj].schema
            number = self._next.get(obj, schema.id_start or self._id_base)
            self._next[obj] = number + 1
        if self.vendor is Vendor.SALESFORCE:
            return salesforce_id(schema.id_prefix, number)
        return str(number)

    # -- writes -------------------------------------------------------------------------------------------
    def create(
        self, obj: str, fields: Mapping[str, Any], *, now: datetime | None = None, record_id: str | None = None
    ) -> Record:
        """Insert a record with ``fields``, stamped with ``now``; return it. ValueError if the id exists."""
        with self.lock:
            rid = self.insert(obj, fields, now=now, record_id=record_id)
            return self.tables[obj].read(rid)

    def insert(
        self, obj: str, fields: Mapping[str, Any], *, now: datetime | None = None, record_id: str | None = None
    ) -> str:
        """Like :meth:`create` but return only the new id (no record is built: the simulation's fast path)."""
        with self.lock:
            table = self.tables[obj]
            rid = record_id or self.new_id(obj)
            if rid in table:
                raise ValueError(f"{obj} {rid} exists")
            when = now or self.clock.now()
            values = dict(fields)
            values[self.rules.id_field] = rid
            for name in self.rules.created_fields + self.rules.modified_fields + self.rules.system_fields:
                if name in table.columns:
                    values.setdefault(name, when)
            if self.rules.deleted_field and self.rules.deleted_field in table.columns:
                values[self.rules.deleted_field] = False
            table.write(rid, values)
            self._notify(obj, rid, values)
            return rid

    def update(
        self,
        obj: str,
        record_id: str,
        fields: Mapping[str, Any],
        *,
        now: datetime | None = None,
        system: bool = False,
    ) -> Record:
        """Set ``fields`` on a live record and stamp it; return it. KeyError if unknown or deleted.

        ``system=True`` is an automated change (assignment rule, roll-up): only the system stamp moves.
        """
        with self.lock:
            self.patch(obj, record_id, fields, now=now, system=system)
            return self.tables[obj].read(record_id)

    def patch(
        self,
        obj: str,
        record_id: str,
        fields: Mapping[str, Any],
        *,
        now: datetime | None = None,
        system: bool = False,
    ) -> None:
        """Like :meth:`update` but return nothing (no record is built: the simulation's fast path)."""
        with self.lock:
            table = self.tables[obj]
            if record_id not in table or record_id in table.deleted_at:
                raise KeyError(record_id)
            when = now or self.clock.now()
            values = dict(fields)
            stamps = self.rules.system_fields + (() if system else self.rules.modified_fields)
            for name in stamps:
                if name in table.columns:
                    values[name] = when
            table.write(record_id, values)
            self._notify(obj, record_id, values)

    def delete(self, obj: str, record_id: str, *, now: datetime | None = None) -> Record:
        """Soft-delete (archive) a live record: it stays readable with ``include_deleted``. KeyError if gone."""
        with self.lock:
            table = self.tables[obj]
            if record_id not in table or record_id in table.deleted_at:
                raise KeyError(record_id)
            when = now or self.clock.now()
            values: dict[str, Any] = {name: when for name in self.rules.system_fields if name in table.columns}
            if self.rules.deleted_field:
                values[self.rules.deleted_field] = True
            if self.rules.archived_field:
                values[self.rules.archived_field] = when
            table.write(record_id, values)
            table.deleted_at[record_id] = when
            self._notify(obj, record_id, values)
            return table.read(record_id)

    def _notify(self, obj: str, record_id: str, values: Mapping[str, Any]) -> None:
        for listener in self.listeners:
            listener(obj, record_id, values)

    # -- reads --------------------------------------------------------------------------------------------
    def get(self, obj: str, record_id: str, *, include_deleted: bool = False) -> Record | None:
        """The record, or None when unknown (or deleted, unless ``include_deleted``)."""
        with self.lock:
            table = self.tables[obj]
            if record_id not in table or (record_id in table.deleted_at and not include_deleted):
                return None
            return table.read(record_id)

    def value(self, obj: str, record_id: str, name: str) -> Any:
        """One field of a record, cheaply (None when unset). KeyError if the record is unknown."""
        with self.lock:
            return self.tables[obj].value(record_id, name)

    def is_deleted(self, obj: str, record_id: str) -> bool:
        """Whether the record exists and is deleted/archived."""
        with self.lock:
            return record_id in self.tables[obj].deleted_at

    def rows(self, obj: str, *, include_deleted: bool = False, deleted_only: bool = False) -> list[Record]:
        """A snapshot of every record of ``obj`` in creation order (live ones unless told otherwise)."""
        with self.lock:
            table = self.tables[obj]
            gone = table.deleted_at
            if deleted_only:
                return [table.read(rid) for rid in table.ids() if rid in gone]
            if include_deleted:
                return [table.read(rid) for rid in table.ids()]
            return [table.read(rid) for rid in table.ids() if rid not in gone]

    def iter_rows(self, obj: str, *, include_deleted: bool = False) -> Iterator[Record]:
        """Like :meth:`rows` but lazily, in chunks, so a scan of 100,000 records never holds the lock long."""
        ids = self.ids(obj, include_deleted=include_deleted)
        for start in range(0, len(ids), 1000):
            with self.lock:
                table = self.tables[obj]
                chunk = [table.read(rid) for rid in ids[start : start + 1000]]
            yield from chunk

    def ids(self, obj: str, *, include_deleted: bool = False) -> list[str]:
        """Ids of ``obj`` in creation order (live ones unless ``include_deleted``)."""
        with self.lock:
            table = self.tables[obj]
            if include_deleted:
                return table.ids()
            return [rid for rid in table.ids() if rid not in table.deleted_at]

    def count(self, obj: str, *, include_deleted: bool = False) -> int:
        """How many records of ``obj`` exist (live ones unless ``include_deleted``)."""
        with self.lock:
            table = self.tables[obj]
            return len(table) if include_deleted else len(table) - len(table.deleted_at)

    def find(self, obj: str, name: str, value: Any, *, include_deleted: bool = False) -> list[str]:
        """Ids of ``obj`` whose indexed field ``name`` equals ``value`` (never None), sorted. KeyError if not
        indexed."""
        with self.lock:
            table = self.tables[obj]
            found = table.find(name, value)
            return found if include_deleted else [rid for rid in found if rid not in table.deleted_at]

    def scan(
        self, obj: str, name: str, low: Any = None, high: Any = None, *, include_deleted: bool = False
    ) -> list[str]:
        """Ids of ``obj`` whose range-indexed field ``name`` lies in [low, high] (None: unbounded), ordered by
        that field. KeyError if ``name`` is not in the schema's ``ranged`` fields."""
        with self.lock:
            table = self.tables[obj]
            found = table.scan(name, low, high)
            return found if include_deleted else [rid for rid in found if rid not in table.deleted_at]

    def deleted_between(self, obj: str, start: datetime, end: datetime) -> list[tuple[str, datetime]]:
        """(id, deleted time) of records deleted in [start, end), oldest first (getDeleted)."""
        with self.lock:
            gone = self.tables[obj].deleted_at.items()
            return sorted(((rid, at) for rid, at in gone if start <= at < end), key=lambda p: (p[1], p[0]))

    def modified_between(self, obj: str, field: str, start: datetime, end: datetime) -> list[str]:
        """Ids (deleted included) whose datetime ``field`` is in [start, end), ordered by it (getUpdated)."""
        with self.lock:
            table = self.tables[obj]
            hits = [(table.value(rid, field), rid) for rid in table.ids()]
        return [rid for at, rid in sorted(h for h in hits if h[0] is not None and start <= h[0] < end)]

    # -- associations (HubSpot) ----------------------------------------------------------------------------
    def associate(
        self, from_obj: str, from_id: str, to_obj: str, to_id: str, type_id: int, reverse_type_id: int
    ) -> None:
        """Link two records: ``type_id`` from → to and ``reverse_type_id`` to → from (no duplicates).

        HubSpot numbers each direction separately (email → contact 198, contact → email 197); see
        :data:`crmsync.sandbox.schema.HS_ASSOCIATION_TYPES`.
        """
        with self.lock:
            forward = self._assoc.setdefault((from_obj, from_id), [])
            if (to_obj, to_id, type_id) not in forward:
                forward.append((to_obj, to_id, type_id))
            back = self._assoc.setdefault((to_obj, to_id), [])
            if (from_obj, from_id, reverse_type_id) not in back:
                back.append((from_obj, from_id, reverse_type_id))

    def associations(self, obj: str, record_id: str, to_obj: str) -> list[tuple[str, int]]:
        """(to id, type id) of ``record_id``'s links to ``to_obj``, in the order they were made."""
        with self.lock:
            links = self._assoc.get((obj, record_id), [])
            return [(tid, type_id) for tobj, tid, type_id in links if tobj == to_obj]

    def dissociate(self, from_obj: str, from_id: str, to_obj: str, to_id: str) -> None:
        """Remove every link between the two records, in both directions."""
        with self.lock:
            fwd = self._assoc.get((from_obj, from_id), [])
            fwd[:] = [link for link in fwd if (link[0], link[1]) != (to_obj, to_id)]
            back = self._assoc.get((to_obj, to_id), [])
            back[:] = [link for link in back if (link[0], link[1]) != (from_obj, from_id)]
