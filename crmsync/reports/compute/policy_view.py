"""Build the reports' :class:`ReportRules` from a loaded :class:`~crmsync.policy.Policy`. Pure."""

from __future__ import annotations

from collections.abc import Mapping

from crmsync.policy.calendar import BusinessCalendar
from crmsync.policy.model import Policy
from crmsync.reports.compute.rules import ReportRules, SlaTier, TeamCapacity


def holding_identifiers(spec: str) -> set[str]:
    """The owner ids or emails a holding-owner spec names: ``user:<email>`` → the email, a bare id → itself.

    ``queue:<name>`` names a queue, which is never a rep anyway, so it yields nothing.
    """
    kind, sep, value = spec.partition(":")
    if not sep:
        return {spec.strip().lower()}
    return {value.strip().lower()} if kind.strip().lower() == "user" else set()


def report_rules(policy: Policy) -> ReportRules:
    """The reports' view of ``policy``: calendars, teams with capacity, SLA tiers, segment and constants."""
    holding = holding_identifiers(policy.qualification.holding_owner)
    for team in policy.teams.values():
        if team.holding_owner:
            holding |= holding_identifiers(team.holding_owner)

    def attractive(fields: Mapping[str, object]) -> bool:
        return bool(policy.is_attractive(fields))

    def member_calendar(email: str) -> BusinessCalendar | None:
        return policy.calendar_for(email) if policy.member(email) is not None else None

    return ReportRules(
        calendar=policy.business_calendar,
        teams=tuple(
            TeamCapacity(name, tuple(m.email for m in team.members), float(team.capacity.daily_leads))
            for name, team in policy.teams.items()
        ),
        tiers=tuple(
            SlaTier(tier.name, policy.predicate(tier.when), tier.first_touch, tier.count_automated, tier.channels)
            for tier in policy.sla
        ),
        attractive=attractive,
        minutes_per_email=policy.reports.minutes_per_email,
        min_sample=policy.reports.min_sample,
        min_touches_before_close=policy.dispositions.min_touches_before_close,
        holding_owners=frozenset(holding),
        rule_teams={rule.name: rule.team for rule in policy.routing},
        member_calendar=member_calendar,
        unresponsive_reason=policy.on_breach.unresponsive.reason.split("{", 1)[0].strip(),
    )
