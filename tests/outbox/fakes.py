"""A small in-memory CRM that implements the port, for dispatcher tests (the sandbox covers the wire)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from crmsync.crm.ports import Budget, Outcome, OutcomeStatus, Page, Watermark
from crmsync.domain import Action, Activity, Lead, Owner, Vendor, moves_owner
from crmsync.errors import RetriableError


@dataclass
class MemoryCrm:
    """Owners by lead id; ``apply`` moves them. ``fail`` scripts per-lead outcomes, ``raise_next`` call errors."""

    owners: dict[str, str | None]
    size: int = 200
    fail: dict[str, Outcome] = field(default_factory=dict)
    raise_next: list[Exception] = field(default_factory=list)
    applied: list[list[Action]] = field(default_factory=list)
    owner_reads: int = 0
    allowed: bool = True

    @property
    def connection(self) -> str:
        return "sf"

    @property
    def vendor(self) -> Vendor:
        return Vendor.SALESFORCE

    def pull_leads(self, since: Watermark | None, until: datetime) -> Iterator[Page[Lead]]:
        return iter(())

    def pull_owners(self) -> Iterator[Page[Owner]]:
        return iter(())

    def pull_activities(self, since: Watermark | None, until: datetime) -> Iterator[Page[Activity]]:
        return iter(())

    def current_owners(self, lead_ids: Sequence[str]) -> dict[str, str | None]:
        self.owner_reads += 1
        return {i: self.owners[i] for i in lead_ids if i in self.owners}

    def batch_size(self, action: Action) -> int:
        return self.size

    def apply(self, actions: Sequence[Action]) -> list[Outcome]:
        if self.raise_next:
            raise self.raise_next.pop(0)
        self.applied.append(list(actions))
        outcomes = []
        for action in actions:
            scripted = self.fail.get(action.lead.lead_id)
            if scripted is not None:
                outcomes.append(scripted)
                continue
            target = moves_owner(action)
            if target is not None:
                self.owners[action.lead.lead_id] = target
            outcomes.append(Outcome(OutcomeStatus.DONE))
        return outcomes

    def budget(self) -> Budget:
        return Budget()

    def allow(self, priority: int) -> bool:
        return self.allowed


def transient(message: str = "server error", retry_after: float | None = None) -> RetriableError:
    """A whole-call transient failure such as a 503 or a 429."""
    return RetriableError(message, retry_after=retry_after, status=503, code="SERVER_ERROR")
