"""Local Salesforce and HubSpot API servers over a simulated sales org, with fault injection and accounting.

See DESIGN §7. Start here: :class:`Sandbox` (``crmsync.sandbox.facade``). The pieces: :mod:`.org` (record
store), :mod:`.schema` (fields and wire values), :mod:`.mapping` (simulation → vendor records),
:mod:`.simulation` / :mod:`.world` (the simulated sales floor), :mod:`.server` (HTTP plumbing),
:mod:`.salesforce` and :mod:`.hubspot` (the vendor servers), :mod:`.soql`, :mod:`.faults`, :mod:`.stats`.
Names are imported lazily so that importing one piece does not start the whole package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crmsync.sandbox.facade import Sandbox
    from crmsync.sandbox.faults import FaultKind, FaultPlan, FaultRule, load_plan
    from crmsync.sandbox.simulation import Simulation, SimulationConfig
    from crmsync.sandbox.stats import Stats
    from crmsync.sandbox.world import Personality

_EXPORTS = {
    "Sandbox": "crmsync.sandbox.facade",
    "FaultKind": "crmsync.sandbox.faults",
    "FaultPlan": "crmsync.sandbox.faults",
    "FaultRule": "crmsync.sandbox.faults",
    "load_plan": "crmsync.sandbox.faults",
    "Simulation": "crmsync.sandbox.simulation",
    "SimulationConfig": "crmsync.sandbox.simulation",
    "Stats": "crmsync.sandbox.stats",
    "Personality": "crmsync.sandbox.world",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'crmsync.sandbox' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "FaultKind",
    "FaultPlan",
    "FaultRule",
    "Personality",
    "Sandbox",
    "Simulation",
    "SimulationConfig",
    "Stats",
    "load_plan",
]
