"""A seeded, deterministic plan of faults the sandbox servers inject.

A plan is a list of rules. Each rule names the endpoints it applies to (``fnmatch`` patterns over route
names such as ``sf.query``, ``sf.composite.sobjects.update``, ``hs.contacts.batch.*``; optionally a method),
a :class:`FaultKind`, a ``rate`` in [0, 1], and optionally ``after`` (leave the first N matching requests
alone) and ``times`` (inject at most N times). Kinds:

- ``status``: answer with HTTP ``status`` (500, 502, 503 …) and the vendor's error body;
- ``rate_limit``: HubSpot 429 (``policy`` SECONDLY or DAILY, documented body and headers); Salesforce 403
  ``REQUEST_LIMIT_EXCEEDED``;
- ``slow``: wait ``seconds`` before answering normally (past a client timeout);
- ``expired_session``: 401 ``INVALID_SESSION_ID`` (HubSpot: 401 with its error body);
- ``record_error``: inside collections and batches, fail single records with ``code``
  (``UNABLE_TO_LOCK_ROW``, ``FIELD_CUSTOM_VALIDATION_EXCEPTION``, …) and ``message``.

Determinism: whether the n-th request to an endpoint (or record i of it) is hit depends only on
(seed, rule index, endpoint, n, i), never on thread interleaving across endpoints or on wall time.
``daily_quota`` caps API calls per simulated day per vendor (Salesforce then answers 403
``REQUEST_LIMIT_EXCEEDED``; HubSpot 429 policy DAILY).

File format (YAML or JSON)::

    seed: 7
    daily_quota: {salesforce: 15000}
    rules:
      - {endpoint: "sf.*", kind: status, status: 503, rate: 0.1}
      - {endpoint: "hs.*", kind: rate_limit, rate: 0.05}
      - {endpoint: "sf.composite.*", kind: record_error, code: UNABLE_TO_LOCK_ROW, rate: 0.01}
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from crmsync.errors import ConfigError


class FaultKind(StrEnum):
    """What a rule does to a request (see the module docstring)."""

    STATUS = "status"
    RATE_LIMIT = "rate_limit"
    SLOW = "slow"
    EXPIRED_SESSION = "expired_session"
    RECORD_ERROR = "record_error"


@dataclass(frozen=True, slots=True)
class FaultRule:
    """One rule of a plan."""

    kind: FaultKind
    endpoint: str = "*"
    method: str | None = None
    rate: float = 1.0
    status: int = 503
    seconds: float = 0.0
    code: str = "UNABLE_TO_LOCK_ROW"
    message: str = ""
    policy: str = "SECONDLY"
    after: int = 0
    times: int | None = None

    def applies(self, endpoint: str, method: str) -> bool:
        """Whether this rule names ``endpoint`` (and ``method``, when the rule has one)."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return fnmatch.fnmatchcase(endpoint, self.endpoint)


@dataclass(frozen=True, slots=True)
class Fault:
    """A decision to inject: the rule that fired and the values the server needs to render it."""

    rule: FaultRule
    index: int

    @property
    def kind(self) -> FaultKind:
        return self.rule.kind


@dataclass
class FaultPlan:
    """A seeded plan; thread-safe. An empty plan never injects anything."""

    rules: Sequence[FaultRule] = ()
    seed: int = 0
    daily_quota: dict[str, int] = field(default_factory=dict)
    _seen: dict[tuple[int, str], int] = field(default_factory=dict, repr=False)
    _fired: dict[int, int] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    injected: dict[str, int] = field(default_factory=dict)

    def _draw(self, *parts: object) -> float:
        digest = hashlib.blake2b(repr((self.seed, *parts)).encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64

    def _fires(self, index: int, rule: FaultRule, endpoint: str, sub: object) -> bool:
        """Count the match and decide; the caller holds the lock."""
        key = (index, endpoint)
        n = self._seen.get(key, 0)
        self._seen[key] = n + 1
        if n < rule.after or (rule.times is not None and self._fired.get(index, 0) >= rule.times):
            return False
        if rule.rate < 1.0 and self._draw(index, endpoint, n, sub) >= rule.rate:
            return False
        self._fired[index] = self._fired.get(index, 0) + 1
        name = f"{rule.kind.value}:{endpoint}"
        self.injected[name] = self.injected.get(name, 0) + 1
        return True

    def request_fault(self, endpoint: str, method: str) -> list[Fault]:
        """The request-level faults for this request, in rule order (``slow`` first, then at most one answer)."""
        out: list[Fault] = []
        with self._lock:
            for i, rule in enumerate(self.rules):
                if rule.kind is FaultKind.RECORD_ERROR or not rule.applies(endpoint, method):
                    continue
                if rule.kind is not FaultKind.SLOW and any(f.kind is not FaultKind.SLOW for f in out):
                    continue
                if self._fires(i, rule, endpoint, "request"):
                    out.append(Fault(rule, i))
        return out

    def record_faults(self, endpoint: str, method: str, count: int) -> list[Fault | None]:
        """For a collection/batch of ``count`` records, the per-record fault of each (None: no fault)."""
        out: list[Fault | None] = [None] * count
        with self._lock:
            for i, rule in enumerate(self.rules):
                if rule.kind is not FaultKind.RECORD_ERROR or not rule.applies(endpoint, method):
                    continue
                for pos in range(count):
                    if out[pos] is None and self._fires(i, rule, endpoint, pos):
                        out[pos] = Fault(rule, i)
        return out

    def quota(self, vendor: str) -> int | None:
        """The daily API quota the plan sets for ``vendor`` ("salesforce"/"hubspot"), if any."""
        return self.daily_quota.get(vendor)


def plan_from_mapping(data: Mapping[str, Any], *, source: str = "faults") -> FaultPlan:
    """Build a plan from parsed YAML/JSON; ConfigError listing every problem (``source: rules[i]: …``)."""
    problems: list[str] = []
    rules: list[FaultRule] = []
    allowed = set(FaultRule.__dataclass_fields__)
    for i, raw in enumerate(data.get("rules") or []):
        where = f"{source}: rules[{i}]"
        if not isinstance(raw, Mapping):
            problems.append(f"{where}: must be a mapping")
            continue
        unknown = sorted(set(raw) - allowed)
        if unknown:
            problems.append(f"{where}: unknown keys {', '.join(unknown)}")
            continue
        try:
            rule = FaultRule(**{**raw, "kind": FaultKind(str(raw.get("kind")))})
        except (ValueError, TypeError) as bad:
            problems.append(f"{where}: {bad}")
            continue
        if not 0.0 <= float(rule.rate) <= 1.0:
            problems.append(f"{where}: rate must be within [0, 1]")
        rules.append(rule)
    quota = data.get("daily_quota") or {}
    if not isinstance(quota, Mapping) or not all(isinstance(v, int) and v >= 0 for v in quota.values()):
        problems.append(f"{source}: daily_quota must map vendor names to non-negative integers")
        quota = {}
    seed = data.get("seed", 0)
    if not isinstance(seed, int):
        problems.append(f"{source}: seed must be an integer")
        seed = 0
    if problems:
        raise ConfigError(problems)
    return FaultPlan(rules=tuple(rules), seed=seed, daily_quota={str(k): int(v) for k, v in quota.items()})


def load_plan(path: Path) -> FaultPlan:
    """Read a plan from a ``.json`` or YAML file; ConfigError when it is missing or invalid."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError([f"{path}: cannot read fault plan ({err.strerror})"]) from err
    try:
        data = json.loads(text) if path.suffix == ".json" else YAML(typ="safe").load(text)
    except Exception as err:  # any parse failure is a config problem of this file
        raise ConfigError([f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {err}"]) from err
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError([f"{path}: a fault plan must be a mapping"])
    return plan_from_mapping(data, source=str(path))
