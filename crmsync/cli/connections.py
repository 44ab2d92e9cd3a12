"""``crmsync doctor`` and ``crmsync setup``: check each CRM connection, and prepare the CRM for crmsync.

Connections come from ``--connections FILE`` or, by default, the settings' ``connections`` (the settings file,
``config/crmsync.yaml`` or ``$CRMSYNC_SETTINGS_FILE``: the same place the daemon reads them); the field
mapping and holding owner from the policy file (``--policy``, default the settings' ``policy_file``; optional).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from crmsync.cli.common import EXIT_FAILURE, EXIT_OK
from crmsync.crm.config import ConnectionSettings, load_connections
from crmsync.errors import ConfigError

CONNECTIONS_OPTION = typer.Option(None, "--connections", help="YAML file listing the CRM connections.")
POLICY_OPTION = typer.Option(None, "--policy", help="Policy file (field mapping, holding owner).")


def _connections(path: Path | None) -> list[ConnectionSettings]:
    if path is None:
        from crmsync.settings import load_settings

        configured = load_settings().connections
        if not configured:
            raise ConfigError(["no connection is configured: add one under `connections:` in the settings file"])
        return configured
    if not path.exists():
        raise ConfigError([f"{path}: no such connections file"])
    return load_connections(path)


def _policy(path: Path | None) -> Any:
    from crmsync.policy.loader import load_policy
    from crmsync.settings import load_settings

    chosen = path or load_settings().policy_file
    if path is None and not Path(chosen).exists():
        return None
    return load_policy(chosen)


def doctor(connections: Path | None = CONNECTIONS_OPTION, policy: Path | None = POLICY_OPTION) -> None:
    """Check every connection: login, permissions, fields, holding owner, API budget. Exit 1 on a problem."""
    from crmsync.crm.doctor import diagnose
    from crmsync.crm.factory import connect

    loaded = _policy(policy)
    fields = loaded.fields.as_mapping() if loaded is not None else None
    holding = loaded.qualification.holding_owner if loaded is not None else None
    problems = 0
    for settings in _connections(connections):
        typer.echo(f"{settings.name} ({settings.vendor})")
        crm = connect(settings, fields=fields)
        for finding in diagnose(crm, holding or settings.holding_owner):
            mark = "ok  " if finding.ok else "FAIL"
            typer.echo(f"  {mark} {finding.check}: {finding.detail}")
            if not finding.ok:
                problems += 1
                typer.echo(f"       fix: {finding.fix}")
    raise typer.Exit(EXIT_FAILURE if problems else EXIT_OK)


def setup(connections: Path | None = CONNECTIONS_OPTION, policy: Path | None = POLICY_OPTION) -> None:
    """Create the HubSpot custom properties crmsync needs; print the Salesforce field metadata to deploy."""
    from crmsync.crm.doctor import salesforce_field_metadata, setup_hubspot
    from crmsync.crm.factory import connect
    from crmsync.crm.hubspot import HubSpotCrm

    loaded = _policy(policy)
    fields = loaded.fields.as_mapping() if loaded is not None else {}
    reasons = list(loaded.dispositions.reasons) if loaded is not None else []
    for settings in _connections(connections):
        crm = connect(settings, fields=fields)
        if isinstance(crm, HubSpotCrm):
            created = setup_hubspot(crm, reasons)
            typer.echo(f"{settings.name}: created {', '.join(created) if created else 'nothing (all present)'}")
        else:
            typer.echo(f"{settings.name}: deploy these fields (sf project deploy start), then grant field access:")
            typer.echo(salesforce_field_metadata({**settings.fields, **fields}))
