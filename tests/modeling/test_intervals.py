"""Censoring-aware interval coverage and its recalibration (modeling/intervals.py)."""

from __future__ import annotations

import numpy as np

from propensity.modeling.intervals import censored_coverage, conformal_levels, kaplan_meier


def test_kaplan_meier_without_censoring_is_the_empirical_survival() -> None:
    values = np.array([1.0, 2.0, 2.0, 3.0, 5.0])
    grid, survival = kaplan_meier(values, np.ones(5, dtype=bool))
    np.testing.assert_array_equal(grid, [1.0, 2.0, 3.0, 5.0])
    np.testing.assert_allclose(survival, [0.8, 0.4, 0.2, 0.0])


def _censored_uniform(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True u uniform (a calibrated model), censored independently of it: half the rows early
    (at u = 0.15, like recent leads at the end of the data), the rest never."""
    rng = np.random.default_rng(seed)
    truth = rng.random(n)
    censor = np.where(rng.random(n) < 0.5, 0.15, 2.0)
    observed = truth <= censor
    return np.minimum(truth, censor), observed, truth


def test_coverage_counts_censored_rows_and_events_only_does_not() -> None:
    u, observed, truth = _censored_uniform(20_000, seed=1)
    inside = (truth >= 0.1) & (truth <= 0.9)
    aware = censored_coverage(u, observed, 0.1, 0.9)
    assert aware is not None
    assert abs(aware - inside.mean()) < 0.015
    # Dropping censored rows keeps the early events: the naive share is visibly off.
    events_only = float(((u >= 0.1) & (u <= 0.9))[observed].mean())
    assert abs(events_only - inside.mean()) > 0.03


def test_levels_repair_a_too_narrow_interval_under_censoring() -> None:
    u, observed, truth = _censored_uniform(20_000, seed=2)
    # A model whose spread is too small: its u is pushed to the tails (u' = Phi(2 z)).
    from scipy.stats import norm

    squeeze = lambda v: norm.cdf(2.0 * norm.ppf(np.clip(v, 1e-9, 1 - 1e-9)))  # noqa: E731
    narrow_u = squeeze(u)
    before = censored_coverage(narrow_u, observed, 0.1, 0.9)
    assert before is not None and before < 0.6
    low, high = conformal_levels(narrow_u, observed, (0.1, 0.9))
    inside = (squeeze(truth) >= low) & (squeeze(truth) <= high)
    assert abs(float(inside.mean()) - 0.8) < 0.02


def test_unreachable_upper_level_stays_nominal() -> None:
    rng = np.random.default_rng(3)
    truth = rng.random(5000)
    observed = truth < 0.5  # nothing above 0.5 is ever seen
    u = np.minimum(truth, 0.5)
    low, high = conformal_levels(u, observed, (0.1, 0.9))
    assert abs(low - 0.1) < 0.02
    assert high == 0.9


def test_weights_count_a_row_that_many_times() -> None:
    rng = np.random.default_rng(4)
    values = rng.exponential(size=300).round(2)
    events = rng.random(300) < 0.6
    counts = rng.integers(0, 4, 300)
    grid, survival = kaplan_meier(values, events, counts.astype(float))
    repeated = np.repeat(np.arange(300), counts)
    expected_grid, expected = kaplan_meier(values[repeated], events[repeated])
    np.testing.assert_array_equal(grid, expected_grid)
    np.testing.assert_allclose(survival, expected, rtol=1e-12)
    # Unit weights are the plain estimate, bit for bit.
    ones = kaplan_meier(values, events, np.ones(300))
    plain = kaplan_meier(values, events)
    np.testing.assert_array_equal(ones[1], plain[1])


def test_weighted_coverage_is_that_of_the_rows_that_will_have_the_event() -> None:
    """Rows that have the event with probability p (then u is uniform) and otherwise never do;
    every row is followed until a censoring point. Weighting a censored row by its posterior
    chance of still having the event recovers the coverage among the rows that do."""
    rng = np.random.default_rng(5)
    n = 40_000
    p = rng.uniform(0.1, 0.9, n)
    member = rng.random(n) < p
    truth = rng.random(n)
    censor = rng.uniform(0.0, 1.2, n)
    observed = member & (truth <= censor)
    u = np.where(observed, truth, np.minimum(censor, 1.0))
    still = np.clip(1.0 - u, 0.0, 1.0)
    weights = np.where(observed, 1.0, p * still / (p * still + 1.0 - p))
    aware = censored_coverage(u, observed, 0.1, 0.9, weights)
    assert aware is not None and abs(aware - 0.8) < 0.015
    # Without weights the rows that never have the event read as late ones.
    plain = censored_coverage(u, observed, 0.1, 0.9)
    assert plain is not None and plain < 0.7
    low, high = conformal_levels(u, observed, (0.1, 0.9), weights)
    assert abs(low - 0.1) < 0.015 and abs(high - 0.9) < 0.015
