"""``crmsync db``: create or upgrade the database schema, and show which revision it is at."""

from __future__ import annotations

import typer
from sqlalchemy.engine import make_url

from crmsync.settings import load_settings
from crmsync.store import migrate

app = typer.Typer(help="Create or upgrade the database schema (Alembic migrations).", no_args_is_help=True)


def _where(url: str) -> str:
    """The database URL with any password masked, for messages."""
    return make_url(url).render_as_string(hide_password=True)


@app.command()
def upgrade() -> None:
    """Bring the database named by CRMSYNC_DATABASE_URL to the newest schema; a no-op when it is there."""
    url = load_settings().database_url
    before = migrate.current(url)
    migrate.upgrade(url)
    after = migrate.current(url)
    if before == after:
        typer.echo(f"{_where(url)}: already at {after}")
    else:
        typer.echo(f"{_where(url)}: upgraded {before or 'empty'} -> {after}")


@app.command()
def current() -> None:
    """Print the schema revision of the database (``none`` if never migrated) and whether it is the head."""
    url = load_settings().database_url
    revision = migrate.current(url)
    head = migrate.head()
    state = "head" if revision == head else f"behind head {head}"
    typer.echo(f"{revision or 'none'} ({state})")
