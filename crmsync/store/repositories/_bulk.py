"""Bulk writes that work on SQLite and PostgreSQL: each dialect's ``INSERT ... ON CONFLICT``, in chunks."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import ReadOnlyColumnCollection
from sqlalchemy.sql.elements import KeyedColumnElement

T = TypeVar("T")
Excluded = ReadOnlyColumnCollection[str, KeyedColumnElement[Any]]

ROWS_PER_CHUNK = 500
# Bound parameters one statement may carry: SQLite before 3.32 allowed 999, later 32766; PostgreSQL 65535.
SQLITE_MAX_VARIABLES = 32_766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999
POSTGRES_MAX_VARIABLES = 65_535


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size`` (the last may be shorter); never yields an empty list."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def max_rows(session: Session, columns: int) -> int:
    """How many rows of ``columns`` bound values fit in one multi-row statement on this dialect."""
    limit = SQLITE_MAX_VARIABLES if dialect_name(session) == "sqlite" else POSTGRES_MAX_VARIABLES
    return max(1, min(ROWS_PER_CHUNK, limit // max(columns, 1)))


def dialect_name(session: Session) -> str:
    """``"sqlite"`` or ``"postgresql"``: the dialect of the session's connection."""
    return session.get_bind().dialect.name


def insert_for(session: Session, table: Table) -> sqlite.Insert | postgresql.Insert:
    """An INSERT for ``table`` in the session's dialect, so ``on_conflict_*`` is available."""
    if dialect_name(session) == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def upsert(
    session: Session,
    table: Table,
    rows: Iterable[Mapping[str, Any]],
    *,
    keys: Sequence[str],
    update: Sequence[str],
    where: Callable[[Excluded], ColumnElement[bool]] | None = None,
) -> int:
    """Insert ``rows``, or update the ``update`` columns of the row with the same ``keys``; return the rows sent.

    Every row must carry the same columns; when rows repeat a key, the last one wins. ``where(excluded)``
    (a condition over ``table`` and the incoming ``excluded`` row) limits which existing rows are updated;
    with no ``update`` columns, existing rows are left alone. Rows go in chunks, each sent as one
    executemany, so no statement exceeds the database's bound-variable limit.
    """
    sent = 0
    for batch in chunked(rows, ROWS_PER_CHUNK):
        # One row per key and statement: PostgreSQL refuses to update the same row twice in one INSERT.
        chunk = list({tuple(row[k] for k in keys): row for row in batch}.values())
        stmt = insert_for(session, table)
        if update:
            stmt = stmt.on_conflict_do_update(
                index_elements=list(keys),
                set_={name: stmt.excluded[name] for name in update},
                where=None if where is None else where(stmt.excluded),
            )
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
        session.execute(stmt, chunk)
        sent += len(chunk)
    return sent
