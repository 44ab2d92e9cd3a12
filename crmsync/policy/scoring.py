"""The optional lead score: fit (lead attributes) plus engagement (signals decaying with a half-life). Pure.

``score = min(fit, fit.cap) + min(engagement, engagement.cap)``, never below zero. Each engagement signal is
worth ``points × 0.5 ** (age / half_life)``; a component's signals together are capped by its ``max_points``.
Signals after ``now`` are ignored. The grade is the best one whose minimum the score reaches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from crmsync.policy.conditions import Fields, Predicate, compile_condition
from crmsync.policy.sections import EngagementScoring, Scoring


@dataclass(frozen=True, slots=True)
class Signal:
    """One engagement event of a lead: ``kind`` is reply, meeting, call, email, form or page_view."""

    kind: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Score:
    """A computed score, its two parts (each already capped) and its grade (None when no grade applies)."""

    fit: float
    engagement: float
    total: float
    grade: str | None


class Scorer:
    """A :class:`Scoring` section compiled once with the policy's field mapping."""

    def __init__(self, scoring: Scoring, mapping: Mapping[str, str] | None = None) -> None:
        self.scoring = scoring
        fit = scoring.fit
        self._fit: tuple[tuple[Predicate, float], ...] = (
            tuple((compile_condition(c.when, mapping), c.points) for c in fit.components) if fit else ()
        )
        self._fit_cap = fit.cap if fit else 0.0
        self._grades = sorted(scoring.grades.items(), key=lambda item: item[1], reverse=True)

    def __call__(self, fields: Fields, signals: Iterable[Signal], now: datetime) -> Score:
        """Score a lead from its fields and engagement signals as of ``now``."""
        fit = min(sum(points for matches, points in self._fit if matches(fields)), self._fit_cap)
        engaged = self.scoring.engagement
        engagement = _engagement(engaged, list(signals), now) if engaged else 0.0
        total = round(max(0.0, fit + engagement), 2)
        grade = next((name for name, minimum in self._grades if total >= minimum), None)
        return Score(round(fit, 2), round(engagement, 2), total, grade)


def _engagement(section: EngagementScoring, signals: list[Signal], now: datetime) -> float:
    half_life = section.half_life.to_timedelta(timedelta(days=1)).total_seconds()
    total = 0.0
    for component in section.components:
        worth = 0.0
        for signal in signals:
            if signal.kind != component.signal or signal.at > now:
                continue
            age = (now - signal.at).total_seconds()
            worth += component.points * 0.5 ** (age / half_life)
        if component.max_points is not None:
            worth = min(worth, component.max_points)
        total += worth
    return min(total, section.cap)
