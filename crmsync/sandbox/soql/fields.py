"""Field paths against an object's schema: validation, canonical names, getters, and Salesforce JSON rendering."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import NamedTuple

from crmsync.sandbox.soql.model import FieldRef, Query, SoqlError

Row = Mapping[str, object]
Getter = Callable[[Row], object]


class Related(NamedTuple):
    """The record a relationship points to. ``sobject`` is its concrete type (for ``attributes.url``).

    For a polymorphic relationship (Lead.Owner: User or Queue; Task.Who: Lead or Contact) set ``polymorphic``:
    Salesforce then reports the related object as the ``Name`` entity and its ``Type`` field holds the kind
    (``User``, ``Queue``, ``Lead``...); ``record`` should carry that ``Type``, else ``sobject`` is used.
    """

    sobject: str
    record: Row
    polymorphic: bool = False


Resolver = Callable[[str, Row], Related | None]
"""``resolve(relationship, row)``: the record behind ``relationship`` (canonical, e.g. ``"Owner"``) of ``row``,
or None when the lookup field is empty."""


def ci_get(record: Row, name: str) -> object:
    """``record[name]`` matched case-insensitively (exact key first); None when absent."""
    if name in record:
        return record[name]
    lower = name.lower()
    for key, value in record.items():
        if key.lower() == lower:
            return value
    return None


def _ci_key(record: Row, name: str) -> str:
    """The key of ``record`` that matches ``name`` case-insensitively, or ``name`` itself."""
    lower = name.lower()
    return next((key for key in record if key.lower() == lower), name)


@dataclass(frozen=True, slots=True)
class Schema:
    """What the query may name: the object's canonical name, its fields (with SF types when known)."""

    sobject: str
    fields: Mapping[str, str] | None
    resolve: Resolver | None

    @staticmethod
    def build(sobject: str, fields: Mapping[str, str] | Collection[str] | None, resolve: Resolver | None) -> Schema:
        """A schema; a plain collection of field names means the types are unknown (type checks are skipped)."""
        if fields is not None and not isinstance(fields, Mapping):
            fields = dict.fromkeys(fields, "")
        return Schema(sobject, fields, resolve)

    def _lower(self) -> dict[str, str]:
        return {name.lower(): name for name in self.fields or {}}

    def canonical_field(self, query: Query, ref: FieldRef, name: str) -> str:
        """The canonical name of a direct field, or SoqlError INVALID_FIELD if the object has no such field."""
        if self.fields is None:
            return name
        canonical = self._lower().get(name.lower())
        if canonical is None:
            detail = (
                f"No such column '{name}' on entity '{self.sobject}'. If you are attempting to use a custom field, "
                "be sure to append the '__c' after the custom field name. Please reference your WSDL or the "
                "describe call for the appropriate names."
            )
            raise SoqlError(query.text, ref.pos, detail, "INVALID_FIELD")
        return canonical

    def canonical_relationship(self, query: Query, ref: FieldRef) -> str:
        """The canonical relationship name (``Owner`` for ``OwnerId``, ``Foo__r`` for ``Foo__c``)."""
        name = ref.path[0]
        if len(ref.path) > 2:
            detail = f"relationship path '{ref.text}' is deeper than the one level the crmsync sandbox supports"
            raise SoqlError(query.text, ref.pos, detail, "INVALID_FIELD")
        if self.fields is None:
            return name
        lower = self._lower()
        if name.lower().endswith("__r"):
            id_field = lower.get(name.lower()[:-3] + "__c")
            canonical = None if id_field is None else id_field[:-3] + "__r"
        else:
            id_field = lower.get(name.lower() + "id")
            canonical = None if id_field is None else id_field[:-2]
        if canonical is None or self.resolve is None:
            detail = (
                f"Didn't understand relationship '{name}' in field path. If you are attempting to use a custom "
                "relationship, be sure to append the '__r' after the custom relationship name. Please reference "
                "your WSDL or the describe call for the appropriate names."
            )
            raise SoqlError(query.text, ref.pos, detail, "INVALID_FIELD")
        return canonical

    def field_type(self, canonical: str) -> str:
        """The SF type of a direct field ('' when unknown)."""
        return (self.fields or {}).get(canonical, "")

    def getter(self, query: Query, ref: FieldRef) -> Getter:
        """A function reading ``ref`` from a row (through the resolver for relationship fields)."""
        if len(ref.path) == 1:
            name = self.canonical_field(query, ref, ref.path[0])
            if self.fields is None:
                return lambda row: ci_get(row, name)
            return lambda row: row.get(name)
        relationship = self.canonical_relationship(query, ref)
        leaf = ref.path[-1]
        resolve = self.resolve
        if resolve is None:
            return lambda row: None

        def related_value(row: Row) -> object:
            related = resolve(relationship, row)
            if related is None:
                return None
            if leaf.lower() == "type" and related.polymorphic:
                return ci_get(related.record, "Type") or related.sobject
            return ci_get(related.record, leaf)

        return related_value


def format_value(value: object) -> object:
    """A Python value as Salesforce JSON writes it: datetimes as ``2026-03-02T14:00:00.000+0000``."""
    if isinstance(value, datetime):
        utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"
    if isinstance(value, date):
        return value.isoformat()
    return value


class Renderer:
    """Turns matched rows into Salesforce query records: ``attributes`` first, then the SELECT list in order,
    relationship fields nested under the relationship name (``"Owner": {"attributes": ..., "Type": "User"}``,
    or ``"Owner": null`` when the lookup is empty)."""

    def __init__(self, query: Query, schema: Schema, api_version: str) -> None:
        self.base = f"/services/data/v{api_version}/sobjects"
        self.schema = schema
        self.plan: list[tuple[str, str | None, str]] = []  # (key or relationship, leaf or None, typed leaf)
        for ref in query.fields:
            if len(ref.path) == 1:
                self.plan.append((schema.canonical_field(query, ref, ref.path[0]), None, ref.path[0]))
            else:
                self.plan.append((schema.canonical_relationship(query, ref), ref.path[-1], ref.path[-1]))

    def render(self, row: Row) -> dict[str, object]:
        """One record in the documented JSON shape."""
        sobject = self.schema.sobject
        out: dict[str, object] = {"attributes": {"type": sobject, "url": f"{self.base}/{sobject}/{row.get('Id')}"}}
        related_cache: dict[str, Related | None] = {}
        nests: dict[str, dict[str, object]] = {}
        for key, leaf, typed in self.plan:
            if leaf is None:
                value = row.get(key) if self.schema.fields is not None else ci_get(row, key)
                out[key if self.schema.fields is not None else _ci_key(row, key)] = format_value(value)
                continue
            if key not in related_cache:
                related_cache[key] = self.schema.resolve(key, row) if self.schema.resolve else None
            related = related_cache[key]
            if related is None:
                out[key] = None
                continue
            nested = nests.get(key)
            if nested is None:
                entity = "Name" if related.polymorphic else related.sobject
                url = f"{self.base}/{related.sobject}/{ci_get(related.record, 'Id')}"
                nested = nests[key] = {"attributes": {"type": entity, "url": url}}
                out[key] = nested
            if typed.lower() == "type" and related.polymorphic:
                nested["Type"] = ci_get(related.record, "Type") or related.sobject
            else:
                nested[_ci_key(related.record, typed)] = format_value(ci_get(related.record, typed))
        return out
