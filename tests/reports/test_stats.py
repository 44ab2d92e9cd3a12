"""The statistics behind the report: quantiles, the Gini coefficient and the Katz ratio interval."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.reports.compute.stats import Z_95, gini, quantile, rate_ratio


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([30, 30, 45, 120], 0.5, 37.5),
        ([30, 30, 45, 120], 0.9, 97.5),
        ([7], 0.9, 7),
        ([1, 2, 3, 4, 5], 0.0, 1),
        ([1, 2, 3, 4, 5], 1.0, 5),
    ],
    ids=["median-even", "p90-interpolated", "single", "minimum", "maximum"],
)
def test_quantile_interpolates_between_order_statistics(values: list[float], q: float, expected: float) -> None:
    """Quantiles use linear interpolation at position q·(n−1) of the sorted values."""
    assert quantile(values, q) == pytest.approx(expected)


def test_quantile_of_nothing_is_none() -> None:
    """An empty sample has no quantile rather than a made-up zero."""
    assert quantile([], 0.5) is None


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([5, 5, 5, 5], 0.0),
        ([0, 0, 0, 8], 0.75),
        ([1] * 990 + [8] * 10, 0.064766),
        ([0] * 990 + [8] * 10, 0.99),
        ([3], 0.0),
    ],
    ids=["even", "one-holds-all-of-four", "990-once-10-worked", "990-never-10-worked", "single"],
)
def test_gini_matches_hand_computed_values(values: list[float], expected: float) -> None:
    """The Gini coefficient is 0 for an even spread and grows as touches concentrate on few leads."""
    assert gini(values) == pytest.approx(expected, abs=1e-6)


def test_gini_without_any_touch_is_none() -> None:
    """No touches at all have no concentration to measure."""
    assert gini([0, 0, 0]) is None
    assert gini([]) is None


def test_rate_ratio_katz_interval_by_hand() -> None:
    """18/20 vs 6/20 gives ratio 3 and the Katz interval exp(ln 3 ± 1.96·sqrt(1/18−1/20+1/6−1/20))."""
    found = rate_ratio(18, 20, 6, 20)
    assert found is not None
    assert found.ratio == pytest.approx(3.0)
    assert found.low == pytest.approx(1.51196, abs=1e-4)
    assert found.high == pytest.approx(5.95256, abs=1e-4)
    assert not found.corrected


def test_rate_ratio_corrects_zero_cells() -> None:
    """With a zero cell 0.5 is added to every cell, so 10/10 vs 0/10 stays finite: (10.5/11)/(0.5/11) = 21."""
    found = rate_ratio(10, 10, 0, 10)
    assert found is not None
    assert found.corrected
    assert found.ratio == pytest.approx(21.0)
    spread = Z_95 * math.sqrt(1 / 10.5 - 1 / 11 + 1 / 0.5 - 1 / 11)
    assert found.low == pytest.approx(21.0 * math.exp(-spread))


def test_rate_ratio_of_an_empty_group_is_none() -> None:
    """Without leads in one segment there is no ratio."""
    assert rate_ratio(0, 0, 3, 5) is None


def test_rate_ratio_without_any_success_is_none() -> None:
    """0 of 29 against 0 of 51 compares nothing: no ratio rather than the correction's artefact (52/30)."""
    assert rate_ratio(0, 29, 0, 51) is None


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 60), st.integers(1, 60), st.data())
def test_rate_ratio_interval_contains_ratio_and_mirrors(n1: int, n2: int, data: st.DataObject) -> None:
    """The interval always contains the ratio, and swapping the groups inverts ratio and interval."""
    a = data.draw(st.integers(0, n1))
    c = data.draw(st.integers(1 if a == 0 else 0, n2))
    ab = rate_ratio(a, n1, c, n2)
    ba = rate_ratio(c, n2, a, n1)
    assert ab is not None
    assert ba is not None
    assert ab.low <= ab.ratio <= ab.high
    assert ab.ratio == pytest.approx(1 / ba.ratio)
    assert ab.low == pytest.approx(1 / ba.high)
