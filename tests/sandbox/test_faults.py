"""Fault plans: deterministic under a seed, per endpoint and rate, loadable from YAML/JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crmsync.errors import ConfigError
from crmsync.sandbox.faults import FaultKind, FaultPlan, FaultRule, load_plan, plan_from_mapping


def _pattern(plan: FaultPlan, endpoint: str, n: int) -> list[bool]:
    return [bool(plan.request_fault(endpoint, "GET")) for _ in range(n)]


def test_same_seed_same_faults() -> None:
    """Two plans with the same seed inject on exactly the same requests."""
    rules = (FaultRule(FaultKind.STATUS, endpoint="sf.*", rate=0.3),)
    first = _pattern(FaultPlan(rules, seed=5), "sf.query", 200)
    assert first == _pattern(FaultPlan(rules, seed=5), "sf.query", 200)
    assert first != _pattern(FaultPlan(rules, seed=6), "sf.query", 200)
    assert 30 < sum(first) < 90


def test_interleaving_other_endpoints_does_not_change_decisions() -> None:
    """The n-th request to an endpoint gets the same decision whatever else was asked in between."""
    rules = (FaultRule(FaultKind.STATUS, endpoint="*", rate=0.5),)
    alone = _pattern(FaultPlan(rules, seed=1), "a", 50)
    mixed = FaultPlan(rules, seed=1)
    seen = []
    for _ in range(50):
        mixed.request_fault("b", "GET")
        seen.append(bool(mixed.request_fault("a", "GET")))
    assert seen == alone


def test_after_and_times_bound_injection() -> None:
    """``after`` spares the first requests and ``times`` caps how often a rule fires."""
    plan = FaultPlan((FaultRule(FaultKind.EXPIRED_SESSION, endpoint="x", after=2, times=1),))
    assert _pattern(plan, "x", 5) == [False, False, True, False, False]


def test_endpoint_and_method_must_match() -> None:
    """A rule fires only on the endpoints (glob) and method it names."""
    plan = FaultPlan((FaultRule(FaultKind.STATUS, endpoint="hs.contacts.*", method="POST"),))
    assert plan.request_fault("hs.contacts.search", "GET") == []
    assert plan.request_fault("hs.owners.list", "POST") == []
    assert [f.kind for f in plan.request_fault("hs.contacts.search", "POST")] == [FaultKind.STATUS]


def test_slow_combines_with_one_answer() -> None:
    """A slow rule and an answering rule can both fire; at most one answering fault is returned."""
    plan = FaultPlan(
        (
            FaultRule(FaultKind.SLOW, seconds=0.1),
            FaultRule(FaultKind.STATUS, status=500),
            FaultRule(FaultKind.RATE_LIMIT),
        )
    )
    assert [f.kind for f in plan.request_fault("e", "GET")] == [FaultKind.SLOW, FaultKind.STATUS]


def test_record_faults_are_per_position_and_deterministic() -> None:
    """Per-record errors hit positions decided by the seed, identically on a replay."""
    rules = (FaultRule(FaultKind.RECORD_ERROR, endpoint="sf.composite.*", rate=0.1, code="UNABLE_TO_LOCK_ROW"),)
    one = [f is not None for f in FaultPlan(rules, seed=3).record_faults("sf.composite.update", "PATCH", 200)]
    two = [f is not None for f in FaultPlan(rules, seed=3).record_faults("sf.composite.update", "PATCH", 200)]
    assert one == two
    assert 5 < sum(one) < 40
    assert FaultPlan(rules).request_fault("sf.composite.update", "PATCH") == []


def test_load_yaml_and_json(tmp_path: Path) -> None:
    """Plans load from YAML and JSON files with rules, seed and daily quota."""
    yaml_file = tmp_path / "f.yaml"
    yaml_file.write_text(
        "seed: 9\ndaily_quota: {salesforce: 100}\nrules:\n"
        "  - {endpoint: 'sf.*', kind: status, status: 502, rate: 0.5}\n"
    )
    plan = load_plan(yaml_file)
    assert (plan.seed, plan.quota("salesforce"), plan.rules[0].status) == (9, 100, 502)
    json_file = tmp_path / "f.json"
    json_file.write_text(json.dumps({"rules": [{"kind": "rate_limit", "policy": "DAILY"}]}))
    assert load_plan(json_file).rules[0].policy == "DAILY"


def test_bad_plans_report_every_problem(tmp_path: Path) -> None:
    """Invalid rules raise one ConfigError naming each bad rule by index."""
    with pytest.raises(ConfigError) as err:
        plan_from_mapping({"rules": [{"kind": "nope"}, {"kind": "status", "colour": 1}, {"kind": "slow", "rate": 2}]})
    problems = err.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("faults: rules[0]")
    with pytest.raises(ConfigError):
        load_plan(tmp_path / "missing.yaml")
