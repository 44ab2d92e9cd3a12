"""What the cycle commands (``sync``, ``plan``, ``apply``, ``explain``, ``outbox``) share: opening the runtime.

Settings come from :func:`crmsync.settings.load_settings`. A command that talks to a CRM needs a configured
connection: with none (or an unknown ``--connection``) it raises :class:`~crmsync.errors.ConfigError`, which the
CLI turns into exit code 2. The database must be at the newest schema (``crmsync db upgrade``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from crmsync.domain import Owner
from crmsync.errors import ConfigError
from crmsync.logging import configure_logging
from crmsync.runtime import Runtime
from crmsync.settings import Settings, load_settings
from crmsync.store import migrate
from crmsync.store.repositories import roster
from crmsync.store.session import Database

ConnectionOption = Annotated[
    str | None, typer.Option("--connection", "-c", help="Connection name (default: the only one configured).")
]

NO_CONNECTION = "no connection is configured: add one under `connections:` in the settings file (CRMSYNC_SETTINGS_FILE)"


def require_connections(settings: Settings) -> None:
    """Raise ConfigError when the settings list no CRM connection."""
    if not settings.connections:
        raise ConfigError([NO_CONNECTION])


def require_schema(url: str) -> None:
    """Raise ConfigError when the database is not at the newest schema revision."""
    where = make_url(url).render_as_string(hide_password=True)
    current, head = migrate.current(url), migrate.head()
    if current != head:
        raise ConfigError([f"{where}: database schema is at {current or 'none'}, not {head}: run `crmsync db upgrade`"])


def setup_logging(settings: Settings) -> None:
    """Log to standard error (standard output is the command's own: tables, JSON), warnings and up unless the
    settings ask for debug; every connection secret is registered with the redactor first."""
    for connection in settings.connections:
        for block in (connection.salesforce, connection.hubspot):
            if block is not None:
                block.register()
    level = "warning" if settings.log_level == "info" else settings.log_level  # info is the daemon's default
    configure_logging(level, settings.log_format, stream=sys.stderr)


@contextmanager
def open_runtime() -> Iterator[Runtime]:
    """The process's :class:`Runtime` (database, policy, ports), closed on exit; needs a configured connection."""
    settings = load_settings()
    setup_logging(settings)
    require_connections(settings)
    require_schema(settings.database_url)
    runtime = Runtime.from_settings(settings)
    try:
        yield runtime
    finally:
        runtime.close()


def owner_names(runtime: Runtime, connection: str) -> dict[str, str]:
    """Owner id → a readable name (the rep's email, or ``queue:<name>``) from the pulled roster."""
    with runtime.db.transaction() as session:
        return {o.owner_id: describe_owner(o) for o in roster.list_reps(session, connection)}


def describe_owner(owner: Owner) -> str:
    """``ana@acme.test`` for a user with an email, ``queue:Holding`` for a queue, else the name."""
    if owner.kind.value == "queue":
        return f"queue:{owner.name}"
    return owner.email or owner.name


def show_owner(owner_id: str | None, names: Mapping[str, str]) -> str:
    """An owner as operators read it: ``ana@acme.test (005...)``; ``-`` for none."""
    if owner_id is None:
        return "-"
    name = names.get(owner_id)
    return f"{name} ({owner_id})" if name else owner_id


@contextmanager
def open_database() -> Iterator[Database]:
    """Only the database (commands that need neither a CRM connection nor the policy), disposed on exit."""
    settings = load_settings()
    setup_logging(settings)
    require_schema(settings.database_url)
    database = Database(settings.database_url)
    try:
        yield database
    finally:
        database.dispose()
