"""Alembic environment for crmsync.

Run programmatically by :mod:`crmsync.store.migrate` (which passes an open connection in
``config.attributes["connection"]``) or by the ``alembic`` command from the repository root (which reads the
URL from ``sqlalchemy.url`` in alembic.ini, else ``CRMSYNC_DATABASE_URL`` through crmsync's settings).
SQLite runs in batch mode, since it cannot ALTER most things in place; column types are compared.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection
from sqlalchemy.types import TypeEngine

from crmsync.store.session import make_engine
from crmsync.store.tables import Base
from crmsync.store.types import UtcDateTime

target_metadata = Base.metadata


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write crmsync's column types as plain SQLAlchemy ones, so migrations never import app code."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=_compare_type,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def _compare_type(
    ctx: Any, inspected: Any, metadata: Any, inspected_type: TypeEngine[Any], metadata_type: TypeEngine[Any]
) -> bool | None:
    """Compare a UtcDateTime by what it stores (a timestamp); leave everything else to Alembic."""
    if isinstance(metadata_type, UtcDateTime):
        return None if type(inspected_type).__name__ in ("DATETIME", "TIMESTAMP", "DateTime") else True
    return None


def _url() -> str:
    url = context.config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from crmsync.settings import load_settings

    return load_settings().database_url


def run_migrations_online() -> None:
    """Migrate over the connection we were given, or over a fresh engine for the configured URL."""
    given = context.config.attributes.get("connection")
    if given is not None:
        _configure(given)
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            _configure(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("crmsync migrations run online only: give a database URL")
run_migrations_online()
