"""The reports' view of a loaded policy: teams and capacity, SLA tiers, segment, holding owners, constants."""

from __future__ import annotations

from datetime import UTC, datetime

from crmsync.policy.loader import parse_policy
from crmsync.reports.compute.policy_view import holding_identifiers, report_rules

POLICY = """\
version: 1
calendar: {timezone: America/New_York, hours: "09:00-17:00"}
qualification: {mql_when: {field: Score, gte: 60}, holding_owner: "user:nurture@acme.test"}
teams:
  sdr:
    members: [ana@acme.test, {email: ben@acme.test, timezone: Europe/London}]
    capacity: {focus_minutes_per_day: 360, minutes_per_lead: 18}
  events: {members: [dev@acme.test], capacity: {leads_per_day: 40}, holding_owner: "00G000000000001"}
routing:
  - {name: trade shows, when: {field: LeadSource, eq: Trade Show}, team: events}
  - {name: everyone else, team: sdr}
sla:
  - {name: demo, when: {field: LeadSource, eq: Demo Request}, first_touch: 1h, count_automated: true}
  - {name: default, first_touch: 1d, channels: [call, meeting]}
on_breach:
  unresponsive: {status: Nurture, reason: "No reply after {touches} touches"}
dispositions: {closed_statuses: [Nurture, Recycled], reasons: [No budget], min_touches_before_close: 4}
reports: {attractive: {field: NumberOfEmployees, gte: 5000}, minutes_per_email: 2.5, min_sample: 15}
"""


def test_report_rules_follow_the_policy() -> None:
    """Capacity is members × daily leads (360/18 = 20), tiers keep their touch rules, constants carry over."""
    rules = report_rules(parse_policy(POLICY))
    assert [(t.name, t.members, t.leads_per_day) for t in rules.teams] == [
        ("sdr", ("ana@acme.test", "ben@acme.test"), 40.0),
        ("events", ("dev@acme.test",), 40.0),
    ]
    assert rules.rule_teams == {"trade shows": "events", "everyone else": "sdr"}
    demo, default = rules.tiers
    assert (demo.name, demo.count_automated, default.channels) == ("demo", True, ("call", "meeting"))
    assert rules.tier_for(None, {"LeadSource": "Demo Request"}) is demo
    assert rules.tier_for("default", {"LeadSource": "Demo Request"}) is default
    assert rules.attractive({"NumberOfEmployees": "12000"})
    assert not rules.attractive({})
    assert (rules.minutes_per_email, rules.min_sample, rules.min_touches_before_close) == (2.5, 15, 4)
    assert rules.holding_owners == {"nurture@acme.test", "00g000000000001"}
    assert rules.unresponsive_reason == "No reply after"


def test_member_calendar_uses_the_policy_timezone_of_the_rep() -> None:
    """Ben works London hours: 08:30 UTC on a Monday in March is outside them, 09:30 UTC inside."""
    rules = report_rules(parse_policy(POLICY))
    ben = rules.calendar_for("ben@acme.test", None)
    assert not ben.is_working(datetime(2026, 3, 2, 8, 30, tzinfo=UTC))
    assert ben.is_working(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
    stranger = rules.calendar_for("zed@acme.test", "Asia/Tokyo")
    assert stranger.is_working(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))  # 10:00 in Tokyo


def test_holding_identifiers() -> None:
    """``user:`` specs name an email, bare ids themselves, ``queue:`` nothing (queues are never reps)."""
    assert holding_identifiers("user:Nurture@Acme.test") == {"nurture@acme.test"}
    assert holding_identifiers("00G1") == {"00g1"}
    assert holding_identifiers("queue:Marketing Nurture") == set()
