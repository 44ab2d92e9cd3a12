"""The :class:`Sandbox` facade: a simulated org served as Salesforce (TLS) and HubSpot (HTTP) on 127.0.0.1.

::

    with Sandbox(leads=2_000, reps=8, seed=1) as box:       # builds a year of history, starts both servers
        box.salesforce_url, box.salesforce_ca, box.salesforce_token
        box.hubspot_url, box.hubspot_token
        box.advance(timedelta(hours=2))                        # simulated time: inflow and rep work
        box.stats["salesforce"].snapshot()                     # requests by endpoint and quota cost

The clock every org, server and rate window uses is ``box.clock`` (the simulation's
:class:`~crmsync.clock.FakeClock`); nothing moves unless the caller advances it (``crmsync sandbox serve``
advances it with the wall clock). HubSpot's 10-second burst window is measured on that clock too, so a test
that sends hundreds of HubSpot calls without advancing time should pass ``hubspot_limits`` with
``enforce=False``.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from crmsync.domain.model import Vendor
from crmsync.sandbox.faults import FaultPlan, load_plan
from crmsync.sandbox.hubspot import HubSpotLimits, hubspot_server
from crmsync.sandbox.org import Org
from crmsync.sandbox.salesforce import SalesforceAuth, SalesforceSandbox
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.sf_write import AssignmentRule
from crmsync.sandbox.simulation import Simulation, SimulationConfig
from crmsync.sandbox.stats import Stats

HUBSPOT_TOKEN = "pat-na1-sandbox-0000-crmsync"  # noqa: S105 - the sandbox's fixed fake private-app token


class Sandbox:
    """Both sandbox CRMs over one :class:`Simulation`; start/stop them, read their URLs, stats and faults.

    ``faults`` is a plan or a YAML/JSON file (one plan for both servers; rules name ``sf.*`` / ``hs.*``
    endpoints). ``workdir`` holds the CA (``certs/ca.pem``); a temporary folder is made and removed when
    not given. ``log_requests`` > 0 keeps that many requests per server in the stats log.
    """

    def __init__(
        self,
        *,
        leads: int = 1_000,
        reps: int = 8,
        seed: int = 1,
        simulation: SimulationConfig | None = None,
        faults: FaultPlan | Path | None = None,
        workdir: Path | None = None,
        log_requests: int = 0,
        hubspot_limits: HubSpotLimits | None = None,
        salesforce_auth: SalesforceAuth | None = None,
    ) -> None:
        self._own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="crmsync-sandbox-"))
        self.faults = load_plan(faults) if isinstance(faults, Path) else (faults or FaultPlan())
        config = simulation or SimulationConfig(leads=leads, reps=reps, seed=seed)
        self.simulation = Simulation(config)
        self.clock = self.simulation.clock
        self.stats: dict[str, Stats] = {}
        self.salesforce: SalesforceSandbox | None = None
        self.hubspot: SandboxServer | None = None
        self._servers(log_requests, hubspot_limits, salesforce_auth)

    def _servers(
        self, log_requests: int, hubspot_limits: HubSpotLimits | None, salesforce_auth: SalesforceAuth | None
    ) -> None:
        if Vendor.SALESFORCE in self.simulation.orgs:
            self.stats["salesforce"] = Stats(log_size=log_requests)
            org = self.simulation.orgs[Vendor.SALESFORCE]
            reps_ids = list(self.simulation.rep_ids(Vendor.SALESFORCE, active_only=True).values())
            self.salesforce = SalesforceSandbox(
                org, clock=self.clock, tls_dir=self.workdir / "certs", stats=self.stats["salesforce"],
                faults=self.faults, auth=salesforce_auth, rule=AssignmentRule(reps_ids),
            )  # fmt: skip
        if Vendor.HUBSPOT in self.simulation.orgs:
            self.stats["hubspot"] = Stats(log_size=log_requests)
            self.hubspot = hubspot_server(
                self.simulation.orgs[Vendor.HUBSPOT], clock=self.clock, token=HUBSPOT_TOKEN,
                stats=self.stats["hubspot"], faults=self.faults, limits=hubspot_limits,
            )  # fmt: skip

    # -- lifecycle ----------------------------------------------------------------------------------------
    def start(self) -> Sandbox:
        """Start every server on 127.0.0.1, ephemeral ports."""
        if self.salesforce is not None:
            self.salesforce.start()
        if self.hubspot is not None:
            self.hubspot.start()
        return self

    def stop(self) -> None:
        """Stop the servers and remove the temporary workdir (if the sandbox made it)."""
        if self.salesforce is not None:
            self.salesforce.stop()
        if self.hubspot is not None:
            self.hubspot.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what clients need --------------------------------------------------------------------------------
    @property
    def salesforce_url(self) -> str:
        """``https://127.0.0.1:PORT`` (the instance URL)."""
        return self._sf().url

    @property
    def salesforce_ca(self) -> Path:
        """The CA certificate that verifies the Salesforce server."""
        return self._sf().ca_path

    @property
    def salesforce_token(self) -> str:
        """A session id that never expires (OAuth logins get their own)."""
        return self._sf().token

    @property
    def hubspot_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        if self.hubspot is None:
            raise LookupError("this sandbox has no HubSpot server")
        return self.hubspot.url

    @property
    def hubspot_token(self) -> str:
        """The private-app token the HubSpot server accepts."""
        return HUBSPOT_TOKEN

    @property
    def orgs(self) -> dict[Vendor, Org]:
        """The simulated orgs by vendor."""
        return self.simulation.orgs

    def _sf(self) -> SalesforceSandbox:
        if self.salesforce is None:
            raise LookupError("this sandbox has no Salesforce server")
        return self.salesforce

    def advance(self, delta: timedelta) -> datetime:
        """Advance the simulation (and the clock) by ``delta``; return the new simulated now."""
        return self.simulation.advance(delta)

    def connection_info(self) -> dict[str, Any]:
        """The JSON object ``crmsync sandbox serve --json`` prints first."""
        info: dict[str, Any] = {}
        if self.salesforce is not None:
            info.update(salesforce_url=self.salesforce_url, salesforce_ca=str(self.salesforce_ca),
                        salesforce_token=self.salesforce_token)  # fmt: skip
        if self.hubspot is not None:
            info.update(hubspot_url=self.hubspot_url, hubspot_token=self.hubspot_token)
        return info
