"""Drift statistics on synthetic samples: a shifted feature gets a high PSI and a small p-value,
a sample from the baseline's own distribution does not."""

from __future__ import annotations

import numpy as np
import pytest

from propensity.modeling.stats import categorical_summary, numeric_summary
from propensity.monitoring import drift, output_drift

RNG_SEED = 7


def _numeric_stats(values: np.ndarray) -> dict[str, object]:
    return {"kind": "numeric", **numeric_summary(values)}


def test_psi_is_zero_for_identical_shares_and_grows_with_the_shift() -> None:
    base = [0.25, 0.25, 0.25, 0.25]
    assert drift.psi(base, base) == pytest.approx(0.0)
    small = drift.psi(base, [0.3, 0.25, 0.25, 0.2])
    large = drift.psi(base, [0.6, 0.2, 0.1, 0.1])
    assert 0 < small < drift.PSI_STABLE < drift.PSI_SIGNIFICANT < large
    # An empty bin stays finite thanks to the smoothing.
    assert np.isfinite(drift.psi(base, [0.5, 0.5, 0.0, 0.0]))
    # By hand: sum (a - e) ln(a / e).
    expected = sum((a - e) * np.log(a / e) for a, e in zip([0.6, 0.2, 0.1, 0.1], base, strict=True))
    assert large == pytest.approx(expected, rel=1e-3)


def test_levels_follow_the_documented_cut_offs() -> None:
    assert drift.level(0.05) == "stable"
    assert drift.level(0.1) == "moderate"
    assert drift.level(0.25) == "moderate"
    assert drift.level(0.3) == "significant"
    assert drift.level(None) is None


def test_numeric_shift_is_detected_and_an_unshifted_sample_is_not() -> None:
    rng = np.random.default_rng(RNG_SEED)
    training = rng.lognormal(mean=12.0, sigma=0.6, size=3000)
    training[rng.random(3000) < 0.05] = np.nan
    stats = _numeric_stats(training)
    same = rng.lognormal(mean=12.0, sigma=0.6, size=400)
    same[rng.random(400) < 0.05] = np.nan  # missing as often as in training
    shifted = rng.lognormal(mean=12.0, sigma=0.6, size=400) * 2.5

    stable = drift.feature_drift("budget", stats, same, baseline_rows=3000)
    moved = drift.feature_drift("budget", stats, shifted, baseline_rows=3000)
    assert stable is not None and moved is not None
    assert stable.psi < drift.PSI_STABLE and not stable.drifted
    assert stable.test.p_value is not None and stable.test.p_value > drift.SIGNIFICANCE
    assert moved.psi > drift.PSI_SIGNIFICANT and moved.drifted and moved.level == "significant"
    assert moved.test.p_value is not None and moved.test.p_value < 1e-6
    # The baseline's 5% missing values are a bin of their own; none are missing now.
    assert moved.baseline_missing_rate == pytest.approx(np.isnan(training).mean())
    assert moved.current_missing_rate == 0.0
    assert sum(moved.current_shares) == pytest.approx(1.0)
    assert sum(moved.baseline_shares) == pytest.approx(1.0)


def test_values_beyond_the_training_range_land_in_the_open_outer_bins() -> None:
    stats = _numeric_stats(np.arange(100, dtype=float))
    result = drift.feature_drift("x", stats, np.full(50, 1e9))
    assert result is not None
    assert result.current_shares[-2] == pytest.approx(1.0)  # the last value bin, not missing
    assert result.drifted


def test_categorical_shift_uses_other_and_missing_bins() -> None:
    rng = np.random.default_rng(RNG_SEED)
    sources = np.asarray(rng.choice(["web", "referral", "event"], size=2000, p=[0.6, 0.3, 0.1]))
    stats = {"kind": "categorical", **categorical_summary(sources.astype(object))}
    same = rng.choice(["web", "referral", "event"], size=300, p=[0.6, 0.3, 0.1]).astype(object)
    changed = np.asarray(["partner"] * 200 + [None] * 50 + ["web"] * 50, dtype=object)

    stable = drift.feature_drift("source", stats, same, baseline_rows=2000)
    moved = drift.feature_drift("source", stats, changed, baseline_rows=2000)
    assert stable is not None and moved is not None
    assert not stable.drifted and stable.psi < drift.PSI_STABLE
    shares = dict(zip(moved.bins, moved.current_shares, strict=True))
    assert shares["__other__"] == pytest.approx(200 / 300)
    assert shares["__missing__"] == pytest.approx(50 / 300)
    assert moved.drifted and moved.psi > drift.PSI_SIGNIFICANT


def test_boolean_baseline_uses_the_true_rate() -> None:
    stats = {"kind": "boolean", "missing_rate": 0.0, "true_rate": 0.2, "bins": {}}
    flipped = drift.feature_drift("has_phone", stats, np.asarray([1.0] * 80 + [0.0] * 20))
    assert flipped is not None and flipped.drifted
    assert flipped.bins == ("false", "true", "__missing__")


def test_small_samples_get_no_p_value_rather_than_a_wrong_one() -> None:
    stats = _numeric_stats(np.arange(1000, dtype=float))
    result = drift.feature_drift("x", stats, np.asarray([5.0, 7.0]))
    assert result is not None
    assert result.test.p_value is None and not result.drifted


def test_noise_correction_and_importance_weighted_overall_score() -> None:
    assert drift.noise_psi(10, 100, None) == pytest.approx(0.09)
    assert drift.noise_psi(10, 100, 900) == pytest.approx(9 * (1 / 100 + 1 / 900))
    rng = np.random.default_rng(RNG_SEED)
    stats = _numeric_stats(rng.normal(size=2000))
    quiet = drift.feature_drift("a", stats, rng.normal(size=300), baseline_rows=2000)
    loud = drift.feature_drift("b", stats, rng.normal(loc=2.0, size=300), baseline_rows=2000)
    assert quiet is not None and loud is not None
    weighted = drift.overall_drift([quiet, loud], {"a": 0.9, "b": 0.1})
    assert weighted == pytest.approx(0.9 * quiet.excess_psi + 0.1 * loud.excess_psi)
    assert drift.overall_drift([quiet, loud], {}) == pytest.approx(
        (quiet.excess_psi + loud.excess_psi) / 2
    )
    assert drift.overall_drift([], {}) is None


def test_clock_features_are_reported_but_not_counted_in_the_overall_score() -> None:
    rng = np.random.default_rng(RNG_SEED)
    stats = _numeric_stats(rng.exponential(60.0, size=2000))
    age = drift.feature_drift(
        "lead_age", stats, rng.exponential(200.0, size=300), baseline_rows=2000, clock=True
    )
    quiet = drift.feature_drift(
        "budget", stats, rng.exponential(60.0, size=300), baseline_rows=2000
    )
    assert age is not None and quiet is not None
    assert age.drifted and age.clock and age.to_dict()["clock"] is True
    assert not quiet.clock
    # The clock feature's large excess PSI does not reach the score, whatever its importance.
    assert drift.overall_drift([age, quiet], {"lead_age": 0.9, "budget": 0.1}) == pytest.approx(
        quiet.excess_psi
    )
    assert drift.overall_drift([age], {"lead_age": 1.0}) is None


def test_score_drift_and_concept_drift() -> None:
    rng = np.random.default_rng(RNG_SEED)
    reference = rng.beta(2, 8, size=1000)
    assert (same := output_drift.score_drift(reference, rng.beta(2, 8, size=500))) is not None
    assert (moved := output_drift.score_drift(reference, rng.beta(5, 5, size=500))) is not None
    assert same.psi < drift.PSI_STABLE and same.p_value > drift.SIGNIFICANCE
    assert moved.psi > drift.PSI_SIGNIFICANT and moved.p_value < 1e-6
    assert output_drift.score_drift(reference, np.asarray([])) is None

    worse = output_drift.concept_drift(accurate=60, validated=100, baseline_accuracy=0.9)
    assert worse.score == pytest.approx(0.3) and worse.confidence > 0.99
    fine = output_drift.concept_drift(accurate=91, validated=100, baseline_accuracy=0.9)
    assert fine.score == 0.0 and fine.confidence < 0.5
