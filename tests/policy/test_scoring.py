"""The optional score: capped fit plus engagement decaying with a half-life, and grades."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from crmsync.policy.model import Policy
from crmsync.policy.scoring import Signal

NOW = datetime(2026, 3, 2, 14, tzinfo=UTC)
SCORING: dict[str, Any] = {
    "fit": {
        "cap": 40,
        "components": [
            {"name": "big company", "when": {"field": "NumberOfEmployees", "gte": 1000}, "points": 30},
            {"name": "senior", "when": {"field": "Title", "matches": "(?i)vp"}, "points": 20},
            {"name": "student", "when": {"field": "Title", "contains": "student"}, "points": -50},
        ],
    },
    "engagement": {
        "cap": 50,
        "half_life": "calendar 14d",
        "components": [
            {"name": "replied", "signal": "reply", "points": 20, "max_points": 30},
            {"name": "meeting", "signal": "meeting", "points": 25},
        ],
    },
    "grades": {"A": 80, "B": 50, "C": 0},
}


@pytest.fixture
def policy(policy_data: dict[str, Any]) -> Policy:
    """The test policy with a scoring section."""
    data = copy.deepcopy(policy_data)
    data["scoring"] = SCORING
    return Policy.model_validate(data)


CASES = [
    ("fit is capped", {"NumberOfEmployees": "5000", "Title": "VP Sales"}, [], (40, 0, 40, "C")),
    ("fresh reply counts fully", {}, [Signal("reply", NOW)], (0, 20, 20, "C")),
    ("one half-life halves", {}, [Signal("reply", NOW - timedelta(days=14))], (0, 10, 10, "C")),
    ("component capped", {}, [Signal("reply", NOW)] * 3, (0, 30, 30, "C")),
    ("section capped", {}, [Signal("reply", NOW)] * 2 + [Signal("meeting", NOW)] * 2, (0, 50, 50, "B")),
    ("future signals ignored", {}, [Signal("meeting", NOW + timedelta(hours=1))], (0, 0, 0, "C")),
    ("never below zero", {"Title": "student"}, [], (-50, 0, 0, "C")),
    (
        "grade A",
        {"NumberOfEmployees": 2000, "Title": "VP"},
        [Signal("reply", NOW), Signal("meeting", NOW)],
        (40, 45, 85, "A"),
    ),
]


@pytest.mark.parametrize(("fields", "signals", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_score(policy: Policy, fields: dict[str, object], signals: list[Signal], expected: tuple[Any, ...]) -> None:
    """Fit and engagement are capped, engagement halves every half-life, grades follow the minimums."""
    scorer = policy.scorer
    assert scorer is not None
    score = scorer(fields, signals, NOW)
    assert (score.fit, score.engagement, score.total, score.grade) == expected


def test_no_scoring_section(policy_data: dict[str, Any]) -> None:
    """Without a scoring section there is no scorer."""
    assert Policy.model_validate(policy_data).scorer is None
