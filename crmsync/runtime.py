"""Wiring: from validated settings to the objects the shell runs (database, policy source, CRM ports, cycles).

The CLI, the daemon and the demo all build their world here, so there is one way a connection is made and
one way a cycle is put together. Nothing here decides anything.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from crmsync.clock import Clock, SystemClock
from crmsync.crm.config import ConnectionSettings
from crmsync.crm.ledger import ActivityLedger
from crmsync.crm.ports import CrmPort
from crmsync.errors import ConfigError
from crmsync.policy import Policy
from crmsync.policy.source import PolicySource
from crmsync.settings import Settings
from crmsync.store.repositories.ledger import DatabaseLedger
from crmsync.store.session import Database
from crmsync.sync.cycle import Cycle

PortFactory = Callable[[ConnectionSettings, Clock, Policy, ActivityLedger], CrmPort]


def holder_id() -> str:
    """This process's name in leases and outbox rows: host, pid and a random suffix (unique per start)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def default_port_factory(settings: ConnectionSettings, clock: Clock, policy: Policy, ledger: ActivityLedger) -> CrmPort:
    """The real adapter for a connection, with the policy's field mapping and the store's activity ledger."""
    from crmsync.crm.factory import connect

    return connect(settings, clock=clock, fields=policy.fields.as_mapping(), ledger=ledger)


@dataclass
class Runtime:
    """The shell's objects for one process. Ports are made lazily, once per connection."""

    settings: Settings
    db: Database
    policy: PolicySource
    clock: Clock = field(default_factory=SystemClock)
    holder: str = field(default_factory=holder_id)
    stop: threading.Event = field(default_factory=threading.Event)
    port_factory: PortFactory = default_port_factory
    _ports: dict[str, CrmPort] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: object) -> Runtime:
        """Open the database and load the policy (raises ConfigError / PolicyError with every problem)."""
        policy = PolicySource(settings.policy_file)
        return cls(settings, Database(settings.database_url), policy, **kwargs)  # type: ignore[arg-type]

    @property
    def connection_names(self) -> list[str]:
        """Configured connections, in the order the settings list them."""
        return [c.name for c in self.settings.connections]

    def connection(self, name: str | None = None) -> ConnectionSettings:
        """The named connection, or the only one when ``name`` is None; ConfigError otherwise."""
        configured = self.settings.connections
        if not configured:
            raise ConfigError(["no connection is configured: add one under `connections:` in the settings file"])
        if name is None:
            if len(configured) > 1:
                raise ConfigError(
                    [f"several connections are configured; name one of: {', '.join(self.connection_names)}"]
                )
            return configured[0]
        for candidate in configured:
            if candidate.name == name:
                return candidate
        raise ConfigError([f"unknown connection {name!r}; configured: {', '.join(self.connection_names)}"])

    def port(self, name: str) -> CrmPort:
        """The CRM port of a connection (made on first use, then reused)."""
        if name not in self._ports:
            ledger = DatabaseLedger(self.db, self.clock)
            self._ports[name] = self.port_factory(self.connection(name), self.clock, self.policy.current, ledger)
        return self._ports[name]

    def add_port(self, port: CrmPort) -> None:
        """Use ``port`` for its connection (the demo's and tests' in-process sandbox)."""
        self._ports[port.connection] = port

    def cycle(self, name: str) -> Cycle:
        """The cycle of a connection, reading the policy source's current policy at each run."""
        return Cycle(self.db, self.port(name), lambda: self.policy.current, self.clock, self.holder, stop=self.stop)

    def close(self) -> None:
        """Release the database pool."""
        self.db.dispose()
