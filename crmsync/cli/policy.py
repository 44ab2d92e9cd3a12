"""``crmsync policy``: check policy files and print their JSON Schema."""

from __future__ import annotations

from pathlib import Path

import typer

from crmsync.errors import PolicyError, PolicyProblem
from crmsync.policy.loader import LoadedPolicy, read_policy
from crmsync.policy.schema import render_schema
from crmsync.settings import load_settings

app = typer.Typer(help="Check policy files and print their JSON Schema.", no_args_is_help=True)


def summary(loaded: LoadedPolicy) -> str:
    """One line saying what a valid policy holds."""
    policy = loaded.policy
    members = {m.email for team in policy.teams.values() for m in team.members}
    return (
        f"{loaded.path}: valid (hash {loaded.digest}): {len(policy.teams)} teams, {len(members)} reps, "
        f"{len(policy.routing)} routing rules, {len(policy.sla)} SLA tiers"
    )


@app.command()
def validate(
    files: list[Path] = typer.Argument(  # noqa: B008 - typer declares arguments as defaults
        None, help="Policy files to check (default: the configured policy file, config/policies.yaml)."
    ),
) -> None:
    """Check policy files: a summary line per valid file; every problem on stderr, one per line (exit 2).

    Problems are raised as one :class:`PolicyError`, which the CLI's error handling prints and turns
    into exit code 2.
    """
    paths = files or [load_settings().policy_file]
    problems: list[PolicyProblem] = []
    for path in paths:
        try:
            loaded = read_policy(path)
        except PolicyError as broken:
            problems.extend(broken.located)
            continue
        typer.echo(summary(loaded))
    if problems:
        raise PolicyError(problems)


@app.command()
def schema() -> None:
    """Print the JSON Schema of policy files (the one shipped as config/policy.schema.json)."""
    typer.echo(render_schema(), nl=False)
