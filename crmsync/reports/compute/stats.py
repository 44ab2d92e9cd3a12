"""Small statistics the reports need: quantiles, a Gini coefficient and a ratio of two proportions with a
Katz log interval. Pure, standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z_95 = 1.959963984540054
"""The standard normal quantile for a two-sided 95 % interval."""


def quantile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-quantile (0 ≤ q ≤ 1) by linear interpolation between order statistics, None when empty.

    This is the "inclusive"/type-7 definition (spreadsheets' PERCENTILE, numpy's default): with sorted
    values ``x[0..n-1]`` the quantile sits at position ``q·(n-1)``. ``quantile(v, 0.5)`` is the median.
    """
    if not 0.0 <= q <= 1.0:
        raise ValueError("q must lie in [0, 1]")
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def gini(values: Sequence[float]) -> float | None:
    """The Gini coefficient of non-negative ``values``: 0 when all equal, towards 1 when one holds everything.

    None when there are no values or they sum to zero (nothing to concentrate). Computed from the sorted
    values as ``2·Σ i·x_(i) / (n·Σ x) − (n+1)/n`` with ``i`` from 1.
    """
    if any(v < 0 for v in values):
        raise ValueError("gini needs non-negative values")
    if not values:
        return None
    total = math.fsum(values)
    if total == 0:
        return None
    n = len(values)
    ranked = math.fsum(i * v for i, v in enumerate(sorted(values), start=1))
    return max(0.0, 2.0 * ranked / (n * total) - (n + 1) / n)


@dataclass(frozen=True, slots=True)
class RateRatio:
    """``(a/n1) / (c/n2)`` with a Katz log interval; ``corrected`` when 0.5 was added to every cell."""

    ratio: float
    low: float
    high: float
    corrected: bool


def rate_ratio(a: int, n1: int, c: int, n2: int, z: float = Z_95) -> RateRatio | None:
    """The ratio of proportions ``a/n1`` over ``c/n2`` with Katz's log interval (Katz et al., 1978).

    ``ln(R) ± z·sqrt(1/a − 1/n1 + 1/c − 1/n2)``, exponentiated. When any cell of the 2×2 table
    (``a``, ``n1−a``, ``c``, ``n2−c``) is zero, 0.5 is added to each cell first (Haldane–Anscombe), for the
    ratio as well as the interval, so the figures stay finite and the interval does not collapse to a point.
    None when either group is empty, or when neither has a success (0/0 compares nothing: a rep who touched
    no lead in time is shown by the SLA figures, not by a ratio). Raises ``ValueError`` on counts outside
    ``0 ≤ a ≤ n1``.
    """
    if not (0 <= a <= n1 and 0 <= c <= n2):
        raise ValueError("counts must satisfy 0 ≤ successes ≤ trials")
    if n1 == 0 or n2 == 0 or a + c == 0:
        return None
    corrected = 0 in (a, n1 - a, c, n2 - c)
    fa, fn1, fc, fn2 = (a + 0.5, n1 + 1.0, c + 0.5, n2 + 1.0) if corrected else (a, n1, c, n2)
    ratio = (fa / fn1) / (fc / fn2)
    spread = z * math.sqrt(1 / fa - 1 / fn1 + 1 / fc - 1 / fn2)
    log_ratio = math.log(ratio)
    return RateRatio(ratio, math.exp(log_ratio - spread), math.exp(log_ratio + spread), corrected)
