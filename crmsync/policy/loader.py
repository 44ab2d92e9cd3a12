"""Load a policy file, reporting every problem at once as ``file:LINE:COLUMN: dotted.path: message``.

The only exception that leaves this module is :class:`~crmsync.errors.PolicyError` (a fuzz test holds it to
that). Problems come from three places, all reported together, in file order:

1. YAML syntax (one problem: parsing stops there);
2. model validation — unknown keys (with a "did you mean"), wrong types, bad durations, timezones, holiday
   calendars, email addresses, regular expressions...;
3. cross-section checks (:mod:`crmsync.policy.checks`) — unknown teams, duplicate names, recycle statuses
   that are not closed statuses, mixes larger than the touch count.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import structlog
from pydantic import ValidationError

from crmsync.errors import PolicyError, PolicyProblem
from crmsync.policy.checks import cross_problems
from crmsync.policy.messages import describe_errors
from crmsync.policy.model import DEFER_CROSS_CHECKS, Policy
from crmsync.policy.yamldata import Located, YamlProblem, parse

log = structlog.get_logger(__name__)
DEFAULT_PATH = Path("config/policies.yaml")


@dataclass(frozen=True, slots=True)
class LoadedPolicy:
    """A valid policy with where it came from and the hash of its bytes (every decision records ``digest``)."""

    policy: Policy
    path: str
    sha256: str

    @property
    def digest(self) -> str:
        """The short content hash: the first 12 hex digits of the SHA-256 of the file's bytes."""
        return self.sha256[:12]


def content_hash(content: bytes) -> str:
    """SHA-256 of a policy file's bytes, in hex."""
    return hashlib.sha256(content).hexdigest()


def read_policy(path: str | Path) -> LoadedPolicy:
    """Read, check and hash a policy file. Raises :class:`PolicyError` (also when the file cannot be read)."""
    name = str(path)
    try:
        content = Path(path).read_bytes()
    except (OSError, ValueError) as unreadable:  # ValueError: a NUL byte in the path
        reason = getattr(unreadable, "strerror", None) or str(unreadable) or type(unreadable).__name__
        raise PolicyError([PolicyProblem(name, 1, 1, "", f"cannot read the policy file: {reason}")]) from None
    return LoadedPolicy(parse_policy(content, name), name, content_hash(content))


def load_policy(path: str | Path) -> Policy:
    """The checked policy in ``path``; raises :class:`PolicyError` listing every problem."""
    return read_policy(path).policy


def parse_policy(content: str | bytes, filename: str = "<policy>") -> Policy:
    """Check policy text (``filename`` is only used in messages); raises :class:`PolicyError`."""
    try:
        return _parse(content, filename)
    except PolicyError:
        raise
    except Exception as unexpected:  # the promise is that only PolicyError escapes; say what happened
        log.error("policy_check_crashed", file=filename, error=type(unexpected).__name__)
        message = f"internal error while checking the policy ({type(unexpected).__name__}); please report it"
        raise PolicyError([PolicyProblem(filename, 1, 1, "", message)]) from unexpected


def _parse(content: str | bytes, filename: str) -> Policy:
    text = _decode(content, filename)
    try:
        located = parse(text)
    except YamlProblem as bad:
        raise PolicyError([PolicyProblem(filename, bad.line, bad.column, "", bad.message)]) from None
    if located.data is None:
        raise PolicyError([PolicyProblem(filename, 1, 1, "", "the file is empty: a policy starts with 'version: 1'")])
    if not isinstance(located.data, dict):
        message = "a policy file is a mapping of sections (version:, calendar:, teams: ...)"
        raise PolicyError([PolicyProblem(filename, 1, 1, "", message)])
    problems: list[PolicyProblem] = []
    policy: Policy | None = None
    try:
        policy = Policy.model_validate(located.data, context={DEFER_CROSS_CHECKS: True})
    except ValidationError as invalid:
        problems.extend(
            _locate(filename, located, path, at_key, message)
            for path, at_key, message in describe_errors(invalid, located.data)
        )
    for path, message in cross_problems(located.data):
        problems.append(_locate(filename, located, path, False, message))
    if problems or policy is None:
        raise PolicyError(_ordered(problems))
    return policy


def _decode(content: str | bytes, filename: str) -> str:
    if isinstance(content, str):
        return content
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as bad:
        line = content[: bad.start].count(b"\n") + 1
        column = bad.start - (content.rfind(b"\n", 0, bad.start) + 1) + 1
        raise PolicyError([PolicyProblem(filename, line, column, "", "the file is not UTF-8 text")]) from None


def _locate(filename: str, located: Located, path: tuple[str | int, ...], at_key: bool, message: str) -> PolicyProblem:
    line, column = located.key_at(path) if at_key else located.value_at(path)
    return PolicyProblem(filename, line, column, dotted(path), message)


def dotted(path: tuple[str | int, ...]) -> str:
    """``("routing", 1, "team")`` → ``routing[1].team``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _ordered(problems: list[PolicyProblem]) -> list[PolicyProblem]:
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.line, p.column, p.path))
