"""The inputs of matching: capture options, and leads and reps indexed by normalised address (pure).

Kept apart from :mod:`crmsync.capture.matching`, which re-exports them, so each module stays small.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from crmsync.capture.model import BodyPolicy, fold_plus_tag, normalise_address
from crmsync.domain import Lead, Owner


class CaptureSection(Protocol):
    """The policy's ``capture`` section, as far as matching reads it."""

    @property
    def body(self) -> str: ...
    @property
    def never_log_domains(self) -> Sequence[str]: ...
    @property
    def personal_domains(self) -> Sequence[str]: ...
    @property
    def sequence_senders(self) -> Sequence[str]: ...
    @property
    def create_missing_contacts(self) -> bool: ...
    @property
    def internal_domains(self) -> Sequence[str]: ...


def _lowered(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.strip().lower().lstrip("@") for v in values if v.strip())


@dataclass(frozen=True, slots=True)
class MatchOptions:
    """The capture options matching obeys (from the policy's ``capture`` section, plus internal domains)."""

    body: BodyPolicy = BodyPolicy.SNIPPET
    never_log_domains: frozenset[str] = frozenset()
    personal_domains: frozenset[str] = frozenset()
    sequence_senders: frozenset[str] = frozenset()
    create_missing_contacts: bool = False
    internal_domains: frozenset[str] = frozenset()

    @classmethod
    def from_policy(cls, capture: CaptureSection, internal_domains: Iterable[str] = ()) -> MatchOptions:
        """Build options from the policy's capture section (plus ``internal_domains``), lower-cased.

        ``sequence_senders`` entries may be addresses or ``@domain``/``domain`` (every sender in it).
        """
        return cls(
            body=BodyPolicy(str(capture.body)),
            never_log_domains=_lowered(capture.never_log_domains),
            personal_domains=_lowered(capture.personal_domains),
            sequence_senders=_lowered(capture.sequence_senders),
            create_missing_contacts=bool(capture.create_missing_contacts),
            internal_domains=_lowered((*capture.internal_domains, *internal_domains)),
        )


class LeadIndex:
    """Leads of one connection by normalised email; optional account domains for missing-contact creation."""

    def __init__(
        self,
        connection: str,
        by_email: Mapping[str, Sequence[str]],
        account_domains: Mapping[str, str] | None = None,
    ) -> None:
        self.connection = connection
        self._by_email = {k: tuple(v) for k, v in by_email.items()}
        self.account_domains = dict(account_domains or {})

    @classmethod
    def from_leads(
        cls, connection: str, leads: Iterable[Lead], account_domains: Mapping[str, str] | None = None
    ) -> LeadIndex:
        """Index the live leads (converted and deleted ones stop all clocks, so they never match)."""
        found: dict[str, list[str]] = {}
        for lead in leads:
            address = normalise_address(lead.email)
            if address and not lead.stopped and lead.ref.connection == connection:
                found.setdefault(address, []).append(lead.ref.lead_id)
        return cls(connection, found, account_domains)

    def find(self, address: str) -> tuple[str, ...]:
        """Lead ids for ``address``: exact match, else with its ``+tag`` folded away."""
        exact = self._by_email.get(address)
        if exact:
            return exact
        folded = fold_plus_tag(address)
        return self._by_email.get(folded, ()) if folded != address else ()


def rep_index(owners: Iterable[Owner]) -> dict[str, str]:
    """Normalised email → owner id for the active users among ``owners``."""
    index: dict[str, str] = {}
    for owner in owners:
        address = normalise_address(owner.email)
        if address and owner.active and owner.kind == "user":
            index.setdefault(address, owner.owner_id)
    return index
