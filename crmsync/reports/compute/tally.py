"""Running tallies of one group (a rep, team, source, campaign or the whole org), and their figures. Pure."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from crmsync.reports.compute.model import CherryPick, GroupFigures
from crmsync.reports.compute.spells import TOUCH_CHANNELS
from crmsync.reports.compute.stats import gini, quantile, rate_ratio

WORKED = "in_sla"
EVALUATED = frozenset({"in_sla", "late", "missed"})
"""First-touch outcomes that count in the SLA percentage; ``pending`` and ``ended`` untouched do not."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one ownership went: first-touch ``status``, business minutes to it, touches and minutes spent.

    ``status`` is ``in_sla`` (first touch by the deadline), ``late`` (after it), ``missed`` (deadline
    passed untouched), ``ended`` (ownership ended untouched before its deadline) or ``pending``.
    """

    status: str
    first_touch_minutes: float | None
    channels: Counter[str]
    minutes: float
    attractive: bool

    @property
    def touches(self) -> int:
        """All touches of the ownership."""
        return sum(self.channels.values())


@dataclass(slots=True)
class Tally:
    """Counts accumulated for one group; :meth:`figures` turns them into :class:`GroupFigures`."""

    ownerships: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    first_touch_minutes: list[float] = field(default_factory=list)
    channels: Counter[str] = field(default_factory=Counter)
    minutes: float = 0.0
    breaches: int = 0
    reassignments_in: int = 0
    reassignments_out: int = 0
    recycles: int = 0
    early_closes: int = 0
    dispositions: Counter[str] = field(default_factory=Counter)
    stale: int = 0
    stale_untouched: int = 0
    delivered: int = 0
    converted: int = 0
    touch_counts: list[float] = field(default_factory=list)
    efforts: list[float] = field(default_factory=list)
    segments: Counter[str] = field(default_factory=Counter)

    def add_ownership(self, outcome: Outcome) -> None:
        """Count one ownership that started in the period."""
        self.ownerships += 1
        self.statuses[outcome.status] += 1
        if outcome.first_touch_minutes is not None:
            self.first_touch_minutes.append(outcome.first_touch_minutes)
        self.channels.update(outcome.channels)
        self.minutes += outcome.minutes
        self.touch_counts.append(outcome.touches)
        self.efforts.append(outcome.minutes)
        if outcome.status in EVALUATED:
            segment = "attractive" if outcome.attractive else "rest"
            self.segments[segment] += 1
            self.segments[f"{segment}_worked"] += outcome.status == WORKED

    def figures(self, key: str) -> GroupFigures:
        """The group's figures (see :class:`GroupFigures` for what each counts)."""
        evaluated = sum(self.statuses[s] for s in EVALUATED)
        worked = self.statuses[WORKED]
        per_lead = {c: self.channels[c] / self.ownerships for c in TOUCH_CHANNELS} if self.ownerships else {}
        return GroupFigures(
            key=key,
            mqls_assigned=self.ownerships,
            sla_evaluated=evaluated,
            worked_within_sla=worked,
            worked_within_sla_pct=_pct(worked, evaluated),
            first_touches=len(self.first_touch_minutes),
            median_first_touch_business_minutes=quantile(self.first_touch_minutes, 0.5),
            p90_first_touch_business_minutes=quantile(self.first_touch_minutes, 0.9),
            touches_per_lead=sum(self.channels.values()) / self.ownerships if self.ownerships else None,
            touches_per_lead_by_channel=per_lead,
            minutes_per_lead=self.minutes / self.ownerships if self.ownerships else None,
            breaches=self.breaches,
            reassignments_in=self.reassignments_in,
            reassignments_out=self.reassignments_out,
            recycles=self.recycles,
            early_closes=self.early_closes,
            dispositions=dict(sorted(self.dispositions.items())),
            stale_mqls=self.stale,
            stale_untouched=self.stale_untouched,
            mqls_delivered=self.delivered,
            converted=self.converted,
            conversion_pct=_pct(self.converted, self.delivered),
        )

    def cherry_pick(self, min_sample: int) -> CherryPick:
        """The cherry-pick index of this group's ownerships; no index below ``min_sample`` in either segment."""
        a, n1 = self.segments["attractive_worked"], self.segments["attractive"]
        c, n2 = self.segments["rest_worked"], self.segments["rest"]
        found = rate_ratio(a, n1, c, n2) if min(n1, n2) >= max(min_sample, 1) else None
        if found is None:
            return CherryPick(None, None, None, n1, a, n2, c, flagged=False, corrected=False)
        return CherryPick(found.ratio, found.low, found.high, n1, a, n2, c, found.low > 1.0, found.corrected)

    def touch_gini(self) -> float | None:
        """Gini coefficient of touches across this group's ownerships (0: every lead got the same)."""
        return gini(self.touch_counts)

    def effort_gini(self) -> float | None:
        """Gini coefficient of estimated minutes across this group's ownerships."""
        return gini(self.efforts)


def _pct(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None
