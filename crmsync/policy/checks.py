"""Checks across policy sections, on the plain data of the file. Pure.

They read the file's data as loaded (dicts, lists, scalars) and tolerate any shape: a part that is missing
or of the wrong type is skipped here, because model validation reports it. Each problem comes with the path
of the value it is about, so the loader can give its line and column.
"""

from __future__ import annotations

import difflib
import string
from collections.abc import Iterator
from typing import Any

Path = tuple[str | int, ...]
Problem = tuple[Path, str]

REASON_PLACEHOLDERS = ("reassignments", "touches", "emails", "calls", "meetings", "tier", "team")
DEFAULT_RECYCLE_STATUS = "Recycled"
RECYCLE_REASON = "Recycled: no touch after {reassignments} reassignments"
UNRESPONSIVE_REASON = "Unresponsive: cadence completed ({emails} emails, {calls} calls)"


def cross_problems(data: object) -> list[Problem]:
    """Every cross-section problem in ``data`` (the whole policy as plain data), in file order of sections."""
    if not isinstance(data, dict):
        return []
    problems: list[Problem] = []
    for check in (_routing, _duplicates, _members, _breach_statuses, _mixes, _effort, _reason_templates):
        problems.extend(check(data))
    return problems


def suggest(word: str, choices: list[str]) -> str:
    """`` (did you mean 'x'?)`` when ``word`` looks like a typo of one of ``choices``, else ``""``."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _items(data: dict[str, Any], key: str) -> Iterator[tuple[int, dict[str, Any]]]:
    section = data.get(key)
    if isinstance(section, list | tuple):
        for index, item in enumerate(section):
            if isinstance(item, dict):
                yield index, item


def _teams(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    teams = data.get("teams")
    if not isinstance(teams, dict):
        return {}
    return {str(k): v for k, v in teams.items() if isinstance(v, dict)}


def _member_email(member: object) -> str | None:
    value = member.get("email") if isinstance(member, dict) else member
    return value.strip().lower() if isinstance(value, str) else None


def _skills(value: object) -> set[str]:
    return {s for s in value if isinstance(s, str)} if isinstance(value, list | tuple) else set()


def _routing(data: dict[str, Any]) -> Iterator[Problem]:
    teams = _teams(data)
    names = sorted(teams)
    for index, rule in _items(data, "routing"):
        team = rule.get("team")
        if not isinstance(team, str) or not isinstance(data.get("teams"), dict):
            continue
        if team not in teams:
            known = ", ".join(names) or "none"
            yield ("routing", index, "team"), f"unknown team {team!r}{suggest(team, names)}; teams: {known}"
            continue
        needed = _skills(rule.get("skills"))
        members = teams[team].get("members")
        held = [
            _skills(m.get("skills")) | _skills(teams[team].get("skills")) if isinstance(m, dict) else
            _skills(teams[team].get("skills"))
            for m in (members if isinstance(members, list | tuple) else [])
        ]  # fmt: skip
        if needed and held and not any(needed <= h for h in held):
            wanted = ", ".join(sorted(needed))
            yield ("routing", index, "skills"), f"no member of team {team!r} has all of the skills: {wanted}"


def _duplicates(data: dict[str, Any]) -> Iterator[Problem]:
    for section in ("routing", "sla"):
        seen: dict[str, int] = {}
        for index, item in _items(data, section):
            name = item.get("name")
            if not isinstance(name, str):
                continue
            if name in seen:
                yield (section, index, "name"), f"duplicate name {name!r} (also {section}[{seen[name]}])"
            else:
                seen[name] = index


def _members(data: dict[str, Any]) -> Iterator[Problem]:
    for team, spec in _teams(data).items():
        members = spec.get("members")
        if not isinstance(members, list | tuple):
            continue
        seen: dict[str, int] = {}
        for index, member in enumerate(members):
            email = _member_email(member)
            if email is None:
                continue
            if email in seen:
                yield ("teams", team, "members", index), f"{email!r} is listed twice (also members[{seen[email]}])"
            else:
                seen[email] = index


def _closed_statuses(data: dict[str, Any]) -> list[str] | None:
    dispositions = data.get("dispositions")
    statuses = dispositions.get("closed_statuses") if isinstance(dispositions, dict) else None
    return [s for s in statuses if isinstance(s, str)] if isinstance(statuses, list | tuple) else None


def _breach_statuses(data: dict[str, Any]) -> Iterator[Problem]:
    closed = _closed_statuses(data)
    if closed is None:
        return
    listed = ", ".join(closed)
    on_breach = data.get("on_breach", {})
    if not isinstance(on_breach, dict):
        return
    for part in ("recycle", "unresponsive"):
        spec = on_breach.get(part, {})
        if part == "unresponsive" and spec is None:
            continue  # it defaults to the recycle status, checked just before
        if not isinstance(spec, dict):
            continue
        if part == "unresponsive" and "status" not in spec:
            continue
        status = spec.get("status", DEFAULT_RECYCLE_STATUS)
        if not isinstance(status, str) or status in closed:
            continue
        if "status" in spec:
            hint = suggest(status, closed)
            message = f"status {status!r} is not one of dispositions.closed_statuses ({listed}){hint}"
            yield ("on_breach", part, "status"), message
        else:
            message = f"the default on_breach.{part}.status {status!r} is not listed: add it, or set that status"
            yield ("dispositions", "closed_statuses"), message


def _mixes(data: dict[str, Any]) -> Iterator[Problem]:
    for index, tier in _items(data, "sla"):
        follow = tier.get("follow_up")
        mix = follow.get("mix") if isinstance(follow, dict) else None
        touches = follow.get("touches") if isinstance(follow, dict) else None
        if not isinstance(mix, dict) or not isinstance(touches, int) or isinstance(touches, bool):
            continue
        counts = {k: v for k, v in mix.items() if isinstance(v, int) and not isinstance(v, bool) and v > 0}
        total = sum(counts.values())
        if total > touches:
            spelt = " + ".join(f"{v} {k}" for k, v in counts.items())
            yield (
                ("sla", index, "follow_up", "mix"),
                f"the mix needs {total} touches ({spelt}) but touches is {touches}",
            )


def _effort(data: dict[str, Any]) -> Iterator[Problem]:
    dispositions = data.get("dispositions")
    if not isinstance(dispositions, dict):
        return
    touches = dispositions.get("min_touches_before_close", 0)
    channels = dispositions.get("min_channels_before_close", 1)
    if isinstance(touches, int) and isinstance(channels, int) and touches > 0 and channels > touches:
        yield (("dispositions", "min_channels_before_close"),
               f"{channels} channels cannot be met with min_touches_before_close {touches}")  # fmt: skip


def _reason_templates(data: dict[str, Any]) -> Iterator[Problem]:
    on_breach = data.get("on_breach")
    if not isinstance(on_breach, dict):
        return
    for part in ("recycle", "unresponsive"):
        spec = on_breach.get(part)
        reason = spec.get("reason") if isinstance(spec, dict) else None
        if isinstance(reason, str):
            problem = template_problem(reason)
            if problem:
                yield ("on_breach", part, "reason"), problem


def template_problem(template: str) -> str | None:
    """Why ``template`` is not a valid reason template (unknown placeholder, stray brace), or None."""
    try:
        fields = [name for _, name, spec, conv in string.Formatter().parse(template) if name is not None]
    except ValueError as bad:
        return f"bad reason template: {bad} (write {{{{ and }}}} for literal braces)"
    allowed = ", ".join("{" + p + "}" for p in REASON_PLACEHOLDERS)
    for name in fields:
        if name not in REASON_PLACEHOLDERS:
            return f"unknown placeholder {{{name}}}{suggest(name, list(REASON_PLACEHOLDERS))}; allowed: {allowed}"
    return None
