"""The ``crmsync`` command line. Each command group lives in its own module and is registered here.

Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.
"""

from __future__ import annotations

import sys

import typer

from crmsync import __version__
from crmsync.cli import capture, connections, db, demo, explain, outbox, plan, policy, report, run, sandbox, sync
from crmsync.cli.common import EXIT_CONFIG, EXIT_FAILURE, run_guarded
from crmsync.errors import ConfigError

app = typer.Typer(
    name="crmsync",
    help="Keeps qualified leads from dying on the vine, beside Salesforce or HubSpot.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(policy.app, name="policy")
app.add_typer(sandbox.app, name="sandbox")
app.command(name="report")(report.report)
app.command(name="doctor")(connections.doctor)
app.command(name="setup")(connections.setup)
app.command(name="sync")(sync.sync)
app.command(name="apply")(sync.apply)
app.command(name="plan")(plan.plan)
app.command(name="explain")(explain.explain)
app.add_typer(outbox.app, name="outbox")
app.command(name="run")(run.run)
app.command(name="demo")(demo.demo)
app.command(name="capture")(capture.capture)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"crmsync {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Keeps qualified leads from dying on the vine, beside Salesforce or HubSpot."""


def main() -> None:
    """Console entry point: run the app, turning crmsync errors into messages and exit codes."""
    sys.exit(run_guarded(app))


__all__ = ["EXIT_CONFIG", "EXIT_FAILURE", "ConfigError", "app", "main"]
