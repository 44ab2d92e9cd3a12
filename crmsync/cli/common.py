"""What every command shares: exit codes, loading settings, turning errors into messages."""

from __future__ import annotations

import sys

import click
import typer

from crmsync.errors import ConfigError, CrmsyncError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2


def run_guarded(app: typer.Typer) -> int:
    """Run ``app`` and map errors to exit codes: config problems 2 (one per line on stderr), others 1."""
    try:
        app(standalone_mode=False)
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except click.exceptions.Abort:
        sys.stderr.write("aborted\n")
        return EXIT_FAILURE
    except click.ClickException as usage:
        usage.show()
        return EXIT_CONFIG
    except ConfigError as bad:
        for problem in bad.problems:
            sys.stderr.write(f"{problem}\n")
        return EXIT_CONFIG
    except CrmsyncError as failed:
        sys.stderr.write(f"error: {failed}\n")
        return EXIT_FAILURE
    return EXIT_OK
