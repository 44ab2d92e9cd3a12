"""What every command shares: exit codes, and turning errors into messages."""

from __future__ import annotations

import sys

import typer

from crmsync.errors import ConfigError, CrmsyncError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2


def run_guarded(app: typer.Typer, args: list[str] | None = None) -> int:
    """Run ``app`` and return its exit code: usage and config problems 2 (one per line on stderr), others 1.

    Typer handles usage errors, ``--help`` and ``typer.Exit`` itself (standalone mode) and exits; crmsync's
    own errors propagate out of it and are mapped here, so no command needs its own try/except.
    """
    try:
        app(args=args, standalone_mode=True)
    except SystemExit as done:
        return _exit_code(done.code)
    except ConfigError as bad:
        for problem in bad.problems:
            sys.stderr.write(f"{problem}\n")
        return EXIT_CONFIG
    except CrmsyncError as failed:
        sys.stderr.write(f"error: {failed}\n")
        return EXIT_FAILURE
    return EXIT_OK


def _exit_code(code: object) -> int:
    if code is None:
        return EXIT_OK
    if isinstance(code, int):
        return code
    sys.stderr.write(f"{code}\n")
    return EXIT_FAILURE
