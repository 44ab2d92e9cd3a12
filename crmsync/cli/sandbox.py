"""``crmsync sandbox serve``: run the sandbox Salesforce and HubSpot servers until interrupted.

The simulated org's history ends at the current hour; after that simulated time follows the wall clock
(times ``--speed``), so crmsync running with the system clock sees leads arrive and reps work in real time.
With ``--json`` the first line on stdout is one JSON object with ``salesforce_url``, ``salesforce_ca``,
``salesforce_token``, ``hubspot_url`` and ``hubspot_token``; logs go to stderr.
"""

from __future__ import annotations

import json
import signal
import threading
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from crmsync.clock import SystemClock
from crmsync.errors import ConfigError
from crmsync.logging import configure_logging, register_secret

app = typer.Typer(name="sandbox", help="Local sandbox CRMs over a simulated sales org.", no_args_is_help=True)


@app.command("serve")
def serve(
    leads: Annotated[int, typer.Option(min=0, help="Leads in the simulated org.")] = 10_000,
    reps: Annotated[int, typer.Option(min=1, help="Sales reps (personalities rotate).")] = 8,
    seed: Annotated[int, typer.Option(help="Seed of the simulation.")] = 1,
    faults: Annotated[Path | None, typer.Option(help="Fault plan (YAML or JSON).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print connection details as one JSON line first.")] = False,
    history_days: Annotated[int, typer.Option(min=1, help="Days of simulated history before now.")] = 365,
    speed: Annotated[float, typer.Option(min=0.0, help="Simulated seconds per wall-clock second; 0 freezes.")] = 1.0,
    maildir: Annotated[Path | None, typer.Option(help="Write the reps' mail to Maildirs under this folder.")] = None,
    ics_dir: Annotated[Path | None, typer.Option(help="Write the reps' meetings to ICS files here.")] = None,
    workdir: Annotated[Path | None, typer.Option(help="Where to write the CA (default: a temporary folder).")] = None,
) -> None:
    """Serve the sandbox CRMs on 127.0.0.1 until SIGINT or SIGTERM."""
    from crmsync.sandbox.facade import Sandbox
    from crmsync.sandbox.simulation import SimulationConfig

    configure_logging(fmt="auto", stream=typer.get_text_stream("stderr"))
    if faults is not None and not faults.is_file():
        raise ConfigError([f"{faults}: fault plan not found"])
    wall = SystemClock()
    now = wall.now().replace(minute=0, second=0, microsecond=0)
    config = SimulationConfig(leads=leads, reps=reps, seed=seed, now=now, history_days=history_days,
                              maildir=maildir, ics_dir=ics_dir)  # fmt: skip
    box = Sandbox(simulation=config, faults=faults, workdir=workdir)
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    with box:
        info = box.connection_info()
        for key in ("salesforce_token", "hubspot_token"):
            register_secret(info[key])
        _announce(info, as_json=as_json)
        started, sim_start = wall.monotonic(), box.clock.now()
        while not stop.wait(1.0):
            if speed > 0:
                box.simulation.advance_to(sim_start + timedelta(seconds=(wall.monotonic() - started) * speed))


def _announce(info: dict[str, str], *, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(info, sort_keys=True))
        return
    typer.echo(f"Salesforce instance URL: {info['salesforce_url']}")
    typer.echo(f"Salesforce CA:           {info['salesforce_ca']}")
    typer.echo(f"Salesforce session id:   {info['salesforce_token']}")
    typer.echo(f"HubSpot URL:             {info['hubspot_url']}")
    typer.echo(f"HubSpot token:           {info['hubspot_token']}")
    typer.echo("Serving until interrupted (Ctrl-C).")
