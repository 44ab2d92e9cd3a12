"""The reps a decision may give leads to, their loads, the routing pointers and the resolved holding owners.

A :class:`Roster` is an input of :func:`~crmsync.engine.decide.decide` and an output of
:func:`~crmsync.engine.decide.decide_all` (with the loads and pointers the batch consumed). Pure and frozen:
:meth:`Roster.after` returns a new roster with one decision's assignments applied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from crmsync.domain import Owner, OwnerKind

if TYPE_CHECKING:
    from crmsync.engine.decision import Decision


@dataclass(frozen=True, slots=True)
class Roster:
    """Who can own leads now, and how loaded they are.

    ``owners``: every CRM owner crmsync knows (users and queues, active or not), by owner id.
    ``open_leads`` / ``assigned_today``: per owner id, the rep's open leads and leads received today (in the
    rep's own day); missing ids count 0. ``pointers``: per team name, the round-robin/weighted pointer.
    ``holding``: policy holding-owner names (``"queue:Marketing Nurture"``, ``"user:x@acme.test"`` or an id)
    resolved to owner ids by the shell; a name missing here cannot be used (the lead is skipped with a reason).
    """

    owners: Mapping[str, Owner]
    open_leads: Mapping[str, int] = field(default_factory=dict)
    assigned_today: Mapping[str, int] = field(default_factory=dict)
    pointers: Mapping[str, int] = field(default_factory=dict)
    holding: Mapping[str, str] = field(default_factory=dict)
    _by_email: dict[str, Owner] = field(default_factory=dict, compare=False, repr=False)
    _holding_ids: frozenset[str] = field(default=frozenset(), compare=False, repr=False)
    _members: dict[tuple[str, ...], tuple[Owner | None, ...]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self._by_email or self._holding_ids:
            return
        by_email: dict[str, Owner] = {}
        for owner in sorted(self.owners.values(), key=lambda o: (not o.active, o.owner_id)):
            if owner.kind is OwnerKind.USER and owner.email:
                by_email.setdefault(owner.email.strip().lower(), owner)
        object.__setattr__(self, "_by_email", by_email)
        object.__setattr__(self, "_holding_ids", frozenset(self.holding.values()))

    @classmethod
    def of(
        cls,
        owners: Iterable[Owner],
        *,
        open_leads: Mapping[str, int] | None = None,
        assigned_today: Mapping[str, int] | None = None,
        pointers: Mapping[str, int] | None = None,
        holding: Mapping[str, str] | None = None,
    ) -> Roster:
        """A roster from a list of owners and optional loads, pointers and resolved holding owners."""
        return cls(
            {o.owner_id: o for o in owners},
            dict(open_leads or {}),
            dict(assigned_today or {}),
            dict(pointers or {}),
            dict(holding or {}),
        )

    def by_email(self, email: str) -> Owner | None:
        """The CRM user with this address (active users preferred), or None."""
        found = self._by_email.get(email)  # policy addresses arrive normalised: skip the work for them
        return found if found is not None else self._by_email.get(email.strip().lower())

    def members_of(self, emails: tuple[str, ...]) -> tuple[Owner | None, ...]:
        """The CRM users with these addresses, in order (None: not a CRM user); cached per list of addresses.

        The cache is shared by the rosters :meth:`with_loads` makes (they have the same owners).
        """
        found = self._members.get(emails)
        if found is None:
            found = self._members[emails] = tuple(self.by_email(e) for e in emails)
        return found

    def holding_id(self, name: str) -> str | None:
        """The owner id a holding-owner name resolves to: through ``holding``, else a known owner id as written."""
        found = self.holding.get(name)
        if found is None and name in self.owners:
            return name
        return found

    def is_holding(self, owner_id: str) -> bool:
        """Whether ``owner_id`` is one of the resolved holding owners."""
        return owner_id in self._holding_ids

    def load(self, owner_id: str) -> int:
        """Open leads of this owner."""
        return self.open_leads.get(owner_id, 0)

    def today(self, owner_id: str) -> int:
        """Leads this owner received today."""
        return self.assigned_today.get(owner_id, 0)

    def pointer(self, team: str) -> int:
        """The team's routing pointer (0 when never used)."""
        return self.pointers.get(team, 0)

    def with_loads(
        self, open_leads: Mapping[str, int], today: Mapping[str, int], pointers: Mapping[str, int]
    ) -> Roster:
        """The same owners and holding owners with other loads and pointers (indexes are shared, not rebuilt)."""
        return Roster(
            self.owners, open_leads, today, pointers, self.holding, self._by_email, self._holding_ids, self._members
        )

    def after(self, decision: Decision) -> Roster:
        """This roster with one decision's moves applied (loads moved, pointers advanced)."""
        open_leads, today, pointers = dict(self.open_leads), dict(self.assigned_today), dict(self.pointers)
        for r in decision.assignments:
            shift(open_leads, today, pointers, r.owner_id, r.previous_owner_id, r.team, r.pointer)
        return self.with_loads(open_leads, today, pointers)


def shift(
    open_leads: dict[str, int],
    today: dict[str, int],
    pointers: dict[str, int],
    gained: str | None,
    lost: str | None,
    team: str | None,
    pointer: int | None,
) -> None:
    """Apply one move to mutable load maps (used by :meth:`Roster.moved` and the batch fold)."""
    if gained is not None:
        open_leads[gained] = open_leads.get(gained, 0) + 1
        today[gained] = today.get(gained, 0) + 1
    if lost is not None and open_leads.get(lost, 0) > 0:
        open_leads[lost] -= 1
    if team is not None and pointer is not None:
        pointers[team] = pointer
