"""The loader: every class of mistake is reported at its line and column, all at once, with a fixed message."""

# Pinned messages are quoted whole, so a failure shows the full line an admin would see:
# ruff: noqa: E501

from __future__ import annotations

from pathlib import Path

import pytest

from crmsync.errors import PolicyError
from crmsync.policy.loader import LoadedPolicy, content_hash, load_policy, parse_policy, read_policy
from crmsync.policy.model import Policy

F = "policy.yaml"

BROKEN: list[tuple[str, str, str, list[str]]] = [
    (
        "yaml syntax error",
        "team: sdr, method: round_robin}",
        "team: sdr, method: round_robin",
        [
            "policy.yaml:13:4: YAML syntax error: expected ',' or '}', but got ':' (while parsing a flow mapping that starts at line 12)"
        ],
    ),
    (
        "duplicate key",
        "version: 1\n",
        "version: 1\nversion: 2\n",
        ['policy.yaml:2:1: YAML syntax error: found duplicate key "version" with value "2" (original value: "1")'],
    ),
    (
        "unknown key with suggestion",
        "method: round_robin",
        "methd: round_robin",
        ["policy.yaml:12:38: routing[1].methd: unknown key 'methd' (did you mean 'method'?)"],
    ),
    (
        "unknown section",
        "reports: {",
        "report: {",
        ["policy.yaml:26:1: report: unknown key 'report' (did you mean 'reports'?)"],
    ),
    (
        "wrong type",
        "leads_per_day: 40",
        "leads_per_day: forty",
        ["policy.yaml:9:64: teams.events.capacity.leads_per_day: expected a whole number, got 'forty'"],
    ),
    (
        "bad duration",
        "first_touch: 1h",
        "first_touch: 1 hour",
        [
            "policy.yaml:16:18: sla[0].first_touch: bad duration '1 hour': write a number with a unit: 30m, 1h, 2d, 1h30m, or 'calendar 48h' for elapsed time"
        ],
    ),
    (
        "duration without unit",
        "within: 15d",
        "within: 15",
        [
            "policy.yaml:18:70: sla[1].follow_up.within: bad duration 15: write a number with a unit: 30m, 1h, 2d, 1h30m, or 'calendar 48h' for elapsed time"
        ],
    ),
    (
        "unknown timezone",
        "America/New_York",
        "America/New_Yrok",
        [
            "policy.yaml:2:22: calendar.timezone: unknown timezone 'America/New_Yrok': use an IANA name such as America/New_York"
        ],
    ),
    (
        "unknown holiday calendar",
        "holidays: US}",
        "holidays: XX}",
        [
            "policy.yaml:2:109: calendar.holidays: unknown holiday calendar 'XX': use a country code such as US, GB or DE, optionally with a subdivision (US/NY)"
        ],
    ),
    (
        "unknown subdivision",
        "holidays: US}",
        "holidays: US/ZZ}",
        ["policy.yaml:2:109: calendar.holidays: unknown subdivision 'ZZ' of US: e.g. AK, AL, AR"],
    ),
    (
        "unknown team",
        "team: events}",
        "team: evnts}",
        ["policy.yaml:11:93: routing[0].team: unknown team 'evnts' (did you mean 'events'?); teams: events, sdr"],
    ),
    (
        "recycle status not closed",
        "[Unqualified, Nurture, Recycled]",
        "[Unqualified, Nurture]",
        [
            "policy.yaml:19:53: on_breach.recycle.status: status 'Recycled' is not one of dispositions.closed_statuses (Unqualified, Nurture)"
        ],
    ),
    (
        "mix larger than touches",
        "touches: 6",
        "touches: 4",
        ["policy.yaml:17:47: sla[0].follow_up.mix: the mix needs 5 touches (2 calls + 3 emails) but touches is 4"],
    ),
    (
        "duplicate rule name",
        "name: everyone else",
        "name: trade shows to the events team",
        ["policy.yaml:12:12: routing[1].name: duplicate name 'trade shows to the events team' (also routing[0])"],
    ),
    (
        "member not an email",
        "ben@acme.test",
        "ben at acme",
        ["policy.yaml:8:34: teams.sdr.members[1]: 'ben at acme' is not an email address"],
    ),
    (
        "duplicate member",
        "ben@acme.test",
        "Ana@acme.test",
        ["policy.yaml:8:34: teams.sdr.members[1]: 'ana@acme.test' is listed twice (also members[0])"],
    ),
    (
        "bad regex",
        "(?i)\\\\b(vp|chief|c.o)\\\\b",
        "(vp|chief",
        [
            "policy.yaml:26:93: reports.attractive.any[1].matches: invalid regular expression '(vp|chief': missing ), unterminated subpattern at position 0"
        ],
    ),
    (
        "missing required key",
        '  holding_owner: "queue:Marketing Nurture"\n',
        "",
        ["policy.yaml:5:3: qualification: missing required key 'holding_owner'"],
    ),
    (
        "bad choice",
        "on_early_close: reopen",
        "on_early_close: reopne",
        [
            "policy.yaml:24:19: dispositions.on_early_close: expected one of reopen, flag, got 'reopne' (did you mean 'reopen'?)"
        ],
    ),
    (
        "not a condition",
        "{field: LeadSource, eq: Trade Show}",
        "{fld: LeadSource, eq: Trade Show}",
        ["policy.yaml:11:50: routing[0].when: a condition is a mapping with one of: field, all, any, not"],
    ),
    (
        "condition without operator",
        "{field: LeadSource, eq: Trade Show}",
        "{field: LeadSource}",
        [
            "policy.yaml:11:50: routing[0].when: give an operator for field 'LeadSource': one of eq, ne, in, not_in, gt, gte, lt, lte, contains, exists, matches"
        ],
    ),
    (
        "comparison with text",
        "gte: 60",
        "gte: sixty",
        [
            "policy.yaml:5:40: qualification.mql_when.any[0].gte: compare with a number or a date (YYYY-MM-DD), got 'sixty'"
        ],
    ),
    (
        "capacity in both forms",
        "{leads_per_day: 40}",
        "{leads_per_day: 40, minutes_per_lead: 18}",
        [
            "policy.yaml:9:48: teams.events.capacity: give leads_per_day or focus_minutes_per_day/minutes_per_lead, not both"
        ],
    ),
    (
        "negative count",
        "max_reassignments: 2",
        "max_reassignments: -1",
        ["policy.yaml:19:32: on_breach.max_reassignments: must be at least 0, got -1"],
    ),
    (
        "bad hours",
        '"09:00-17:00"',
        '"09:00-12:00,11:00-17:00"',
        ["policy.yaml:2:84: calendar.hours: working hours 09:00-12:00 and 11:00-17:00 overlap"],
    ),
    (
        "unknown weekday",
        "thu, fri]",
        "thu, fry]",
        [
            "policy.yaml:2:71: calendar.workdays[4]: expected one of mon, tue, wed, thu, fri, sat, sun, got 'fry' (did you mean 'fri'?)"
        ],
    ),
    (
        "bad reason placeholder",
        '"Recycled: SLA expired"',
        '"Recycled after {reasignments}"',
        [
            "policy.yaml:19:71: on_breach.recycle.reason: unknown placeholder {reasignments} (did you mean 'reassignments'?); allowed: {reassignments}, {touches}, {emails}, {calls}, {meetings}, {tier}, {team}"
        ],
    ),
    (
        "wrong version",
        "version: 1",
        "version: 2",
        ["policy.yaml:1:10: version: expected 1, got 2"],
    ),
    (
        "unknown operator in a nested condition",
        "{field: LeadSource, eq: Trade Show}",
        "{not: {field: LeadSource, equal: Trade Show}}",
        [
            "policy.yaml:11:76: routing[0].when.not.equal: unknown key 'equal'; known keys: field, eq, ne, in, not_in, gt, gte, lt, lte, contains, exists, matches"
        ],
    ),
]


def broken(old: str, new: str, text: str) -> str:
    """The valid policy with one edit."""
    assert old in text, old
    return text.replace(old, new, 1)


@pytest.mark.parametrize(("old", "new", "expected"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_broken_files(policy_text: str, old: str, new: str, expected: list[str]) -> None:
    """Each mistake is reported with its file, line, column, dotted path and an exact message."""
    with pytest.raises(PolicyError) as caught:
        parse_policy(broken(old, new, policy_text), F)
    assert list(caught.value.problems) == expected


def test_every_error_at_once_in_file_order(policy_text: str) -> None:
    """Several mistakes of different kinds come back together, sorted by line and column."""
    text = broken("team: events}", "team: evnts}", policy_text)
    text = broken("method: round_robin", "methd: round_robin", text)
    text = broken("first_touch: 1h", "first_touch: 1 hour", text)
    text = broken("America/New_York", "Mars/Olympus", text)
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, F)
    assert [(p.line, p.column, p.path) for p in caught.value.located] == [
        (2, 22, "calendar.timezone"),
        (11, 93, "routing[0].team"),
        (12, 38, "routing[1].methd"),
        (16, 18, "sla[0].first_touch"),
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "policy.yaml:1:1: the file is empty: a policy starts with 'version: 1'"),
        ("# only a comment\n", "policy.yaml:1:1: the file is empty: a policy starts with 'version: 1'"),
        ("- a\n- b\n", "policy.yaml:1:1: a policy file is a mapping of sections (version:, calendar:, teams: ...)"),
        (b"version: 1\nname: caf\xe9\n", "policy.yaml:2:10: the file is not UTF-8 text"),
    ],
    ids=["empty", "comments only", "a list", "not utf-8"],
)
def test_unusable_files(content: str | bytes, expected: str) -> None:
    """Files that are not a policy at all get one located problem."""
    with pytest.raises(PolicyError) as caught:
        parse_policy(content, F)
    assert list(caught.value.problems) == [expected]


def test_missing_sections_are_all_reported() -> None:
    """A file with only a version lists every required section it lacks."""
    with pytest.raises(PolicyError) as caught:
        parse_policy("version: 1\n", F)
    assert [p.message for p in caught.value.located] == [
        f"missing required key {key!r}" for key in ("qualification", "teams", "routing", "sla", "dispositions")
    ]


def test_read_policy_hashes_the_bytes(tmp_path: Path, policy_text: str) -> None:
    """A valid file loads, and its digest is the short SHA-256 of its bytes."""
    path = tmp_path / "policies.yaml"
    path.write_text(policy_text)
    loaded = read_policy(path)
    assert isinstance(loaded, LoadedPolicy)
    assert isinstance(loaded.policy, Policy)
    assert loaded.sha256 == content_hash(path.read_bytes())
    assert loaded.digest == loaded.sha256[:12]
    assert load_policy(path) == loaded.policy


def test_unreadable_file(tmp_path: Path) -> None:
    """A missing file is a PolicyError naming it, not an OSError."""
    missing = tmp_path / "nope.yaml"
    with pytest.raises(PolicyError) as caught:
        load_policy(missing)
    assert list(caught.value.problems) == [f"{missing}:1:1: cannot read the policy file: No such file or directory"]


def test_impossible_path() -> None:
    """A path the OS cannot even look up (a NUL byte) is still a PolicyError."""
    with pytest.raises(PolicyError) as caught:
        load_policy("bad\0name.yaml")
    assert list(caught.value.problems) == ["bad\0name.yaml:1:1: cannot read the policy file: embedded null byte"]
