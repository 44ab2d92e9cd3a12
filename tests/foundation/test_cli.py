"""The command line answers --version and help, and maps errors to the documented exit codes."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from crmsync import __version__
from crmsync.cli import app


def test_version_prints_the_package_version() -> None:
    """`crmsync --version` prints the installed version and exits 0."""
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"crmsync {__version__}"


def test_console_script_is_installed() -> None:
    """The `crmsync` console script runs as a separate process (the way operators call it)."""
    done = subprocess.run(
        [sys.executable, "-m", "crmsync", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("crmsync ")


def test_unknown_command_is_a_usage_error() -> None:
    """A command that does not exist exits 2, like any usage error."""
    done = subprocess.run(
        [sys.executable, "-m", "crmsync", "no-such-command"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
