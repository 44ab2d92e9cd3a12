"""The policy as the engine reads it: everything that does not depend on a lead, computed once. Pure.

:func:`prepare` turns a :class:`~crmsync.policy.Policy` into an :class:`EnginePolicy` (memoised per policy
object, so calling :func:`~crmsync.engine.decide.decide` with the same policy again costs nothing). The
policy itself already compiles its conditions and caches a calendar per rep; this adds the lookups the engine
makes for every lead: closed statuses, reasons, team members in order, each tier's touch rules, the explainer of
the qualification rule, and the policy hash recorded on each decision.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from crmsync.domain import Channel
from crmsync.engine.why import Explainer, explainer
from crmsync.policy import BusinessCalendar, Policy
from crmsync.policy.sections import Member, SlaTier, Team

_CHANNELS = {"email": Channel.EMAIL, "call": Channel.CALL, "meeting": Channel.MEETING}


@dataclass(frozen=True, slots=True)
class TouchRules:
    """Which touches count for a lead's SLA tier: the channels, and whether automated emails count."""

    channels: frozenset[Channel] = frozenset({Channel.EMAIL, Channel.CALL, Channel.MEETING})
    count_automated: bool = False


@dataclass(frozen=True, slots=True)
class TeamView:
    """A team with its members in policy order and their effective skills."""

    name: str
    team: Team
    members: tuple[Member, ...]
    skills: tuple[frozenset[str], ...]


class EnginePolicy:
    """A policy prepared for the engine. Build it with :func:`prepare`; treat it as immutable."""

    __slots__ = ("closed", "disposition_field", "hash", "mql_why", "policy", "reasons", "teams", "touch_rules")

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.hash = hashlib.sha256(policy.model_dump_json(by_alias=True).encode()).hexdigest()[:16]
        self.closed = frozenset(policy.dispositions.closed_statuses)
        self.reasons = frozenset(policy.dispositions.reasons)
        field = policy.field_name("disposition")
        self.disposition_field: str | None = None if field == "disposition" else field
        self.teams = {
            name: TeamView(name, team, team.members, tuple(team.member_skills(m) for m in team.members))
            for name, team in policy.teams.items()
        }
        self.touch_rules = {tier.name: _rules(tier) for tier in policy.sla}
        self.mql_why: Explainer = explainer(policy.qualification.mql_when, policy.fields.as_mapping())

    def rules_for(self, tier: SlaTier | None) -> TouchRules:
        """Which touches count under ``tier`` (all outbound touches but automated emails without a tier)."""
        return TouchRules() if tier is None else self.touch_rules[tier.name]

    def calendar(self, email: str | None) -> BusinessCalendar:
        """The business calendar of the rep with this address (the organisation's for None or unknown)."""
        return self.policy.calendar_for(email)

    def out_of_office(self, email: str, now: datetime) -> bool:
        """Whether the member with this address is inside one of their out-of-office periods at ``now``."""
        member = self.policy.member(email)
        if member is None or not member.out_of_office:
            return False
        tz = self.calendar(email).tz
        return any(start <= now < end for start, end in (p.resolve(tz) for p in member.out_of_office))


def _rules(tier: SlaTier) -> TouchRules:
    return TouchRules(frozenset(_CHANNELS[c] for c in tier.channels), tier.count_automated)


_PREPARED: dict[int, tuple[Policy, EnginePolicy]] = {}
_PREPARED_LIMIT = 16


def prepare(policy: Policy | EnginePolicy) -> EnginePolicy:
    """The :class:`EnginePolicy` for ``policy`` (memoised by identity; an EnginePolicy is returned as is)."""
    if isinstance(policy, EnginePolicy):
        return policy
    found = _PREPARED.get(id(policy))
    if found is not None and found[0] is policy:
        return found[1]
    if len(_PREPARED) >= _PREPARED_LIMIT:
        _PREPARED.pop(next(iter(_PREPARED)))
    prepared = EnginePolicy(policy)
    _PREPARED[id(policy)] = (policy, prepared)
    return prepared
