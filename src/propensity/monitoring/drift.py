"""Drift statistics: pure functions, data in and numbers out (no database, no HTTP).

Feature drift compares a current sample of one feature with the baseline stored with the model
(`ModelVersion.feature_stats`, see modeling/stats.py):

* Bins. Numeric and boolean-like features are binned on the stored quantile edges (outer bins
  open-ended, exactly as the baseline was binned), plus a `__missing__` bin whose baseline share
  is the stored missing rate. Booleans use two bins (false, true) from the stored `true_rate`.
  Categorical features use the stored categories; anything else lands in `__other__`, missing
  values in `__missing__`.
* PSI (population stability index) = sum over bins (a - e) * ln(a / e), a and e the current and
  baseline shares, each share first raised to at least `EPSILON` (and renormalised) so an empty
  bin gives a finite value. Conventional reading: < 0.1 stable, 0.1-0.25 moderate shift,
  > 0.25 significant shift.
* A test of the same bins suited to the sample size: Pearson's chi-square test of homogeneity
  between the baseline counts (shares times training rows) and the current counts (a goodness-of-
  fit test against the shares when the training row count is unknown). Bins whose expected
  current count is below 5 are pooled first (Cochran's rule); if fewer than two pooled bins remain
  the sample is too small and no p-value is given. PSI measures how much the distribution moved,
  the p-value whether that movement is more than sampling noise: with a few dozen rows a PSI of
  0.15 can be noise, with 100,000 rows a PSI of 0.01 is significant but harmless.
* Sampling noise inflates PSI: with no drift at all its expected value is about
  (k - 1) * (1/n + 1/N) for k bins, n current and N baseline rows (PSI times nN/(n+N) tends to a
  chi-square with k - 1 degrees of freedom). `excess_psi` subtracts that and floors at 0; the
  overall drift score (`overall_drift`) is the importance-weighted mean of excess PSI, so a model
  scored on a small population does not look drifted merely because its sample is small.
* Clock features (`FeatureDefinition.clock`: lead age, days since created, days since the last
  activity, recency score, tenure, days to renewal, imported dates as "days since") move for an
  entity with no new data only because time passes. The baseline pools training snapshots taken
  at every age of every entity across history; the live population is one cross-section of the
  entities open now, a different age mix (survivors of long open lives, stale open leads). So
  these features drift by construction on unshifted data (on the simulated lead tenant they
  took the overall score from 0.004 to 0.051, above the default retrain threshold). They are
  still measured and reported, marked `clock`, but `overall_drift` leaves them out, and the
  service makes no retrain or investigation recommendation from them. A real behavioural shift
  still counts through the non-clock window features (activities in the last 7/30 days, engagement
  counts), which carry the same signal without the age dependence. Why, and the alternatives, in
  docs/adr/0009-drift-and-auto-retrain.md.

Score drift and concept drift (the model's outputs and its accuracy) are in output_drift.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as sps

EPSILON = 1e-4
PSI_STABLE = 0.1
PSI_SIGNIFICANT = 0.25
# A feature counts as drifted only when its test is also this significant.
SIGNIFICANCE = 0.01
MIN_EXPECTED_COUNT = 5.0
MISSING = "__missing__"
OTHER = "__other__"


def psi(expected: Sequence[float] | np.ndarray, actual: Sequence[float] | np.ndarray) -> float:
    """Population stability index of two share vectors over the same bins (see module doc)."""
    e = _smoothed(np.asarray(expected, dtype=np.float64))
    a = _smoothed(np.asarray(actual, dtype=np.float64))
    if e.shape != a.shape:
        raise ValueError(f"PSI needs the same bins: {e.shape} vs {a.shape}")
    return float(np.sum((a - e) * np.log(a / e)))


def _smoothed(shares: np.ndarray) -> np.ndarray:
    total = shares.sum()
    p = shares / total if total > 0 else np.full(len(shares), 1.0 / max(len(shares), 1))
    p = np.maximum(p, EPSILON)
    return np.asarray(p / p.sum(), dtype=np.float64)


def level(value: float | None) -> str | None:
    """stable (< 0.1), moderate (0.1-0.25) or significant (> 0.25)."""
    if value is None:
        return None
    if value < PSI_STABLE:
        return "stable"
    return "moderate" if value <= PSI_SIGNIFICANT else "significant"


def noise_psi(bins: int, current_rows: int, baseline_rows: int | None) -> float:
    """Expected PSI of two samples from one distribution: (k - 1) * (1/n + 1/N)."""
    if current_rows <= 0 or bins < 2:
        return 0.0
    inverse_n = 1.0 / current_rows + (1.0 / baseline_rows if baseline_rows else 0.0)
    return (bins - 1) * inverse_n


@dataclass(frozen=True)
class Baseline:
    """One feature's stored bins, as labels and shares over all rows (missing included)."""

    labels: tuple[str, ...]
    shares: tuple[float, ...]
    kind: str
    edges: tuple[float, ...] = ()  # numeric: the stored quantile edges


def baseline_of(stats: Mapping[str, Any]) -> Baseline | None:
    """The drift baseline from a feature's stored statistics, or None when it has no bins."""
    kind = str(stats.get("kind", "numeric"))
    bins = stats.get("bins") or {}
    missing = float(stats.get("missing_rate") or 0.0)
    if kind == "categorical":
        categories = [str(c) for c in bins.get("categories") or []]
        shares = [float(p) for p in bins.get("proportions") or []]
        if len(categories) < 2 or len(categories) != len(shares):
            return None
        return Baseline(tuple(categories), tuple(shares), kind)
    if kind == "boolean":
        true_rate = stats.get("true_rate")
        if true_rate is None:
            return None
        present = 1.0 - missing
        two = (present * (1 - float(true_rate)), present * float(true_rate), missing)
        return Baseline(("false", "true", MISSING), two, kind)
    edges = [float(e) for e in bins.get("edges") or []]
    proportions = [float(p) for p in bins.get("proportions") or []]
    if len(edges) < 2 or len(proportions) != len(edges) - 1:
        # A constant or all-missing feature: only its missing rate can move.
        labels: tuple[str, ...] = ("present", MISSING)
        return Baseline(labels, (1.0 - missing, missing), kind, tuple(edges))
    labels = (*(_interval(edges, i) for i in range(len(proportions))), MISSING)
    shares_n = (*(p * (1.0 - missing) for p in proportions), missing)
    return Baseline(labels, shares_n, kind, tuple(edges))


def _interval(edges: Sequence[float], i: int) -> str:
    low = "-inf" if i == 0 else f"{edges[i]:g}"
    high = "inf" if i == len(edges) - 2 else f"{edges[i + 1]:g}"
    return f"[{low}, {high})"


def current_counts(baseline: Baseline, values: np.ndarray) -> np.ndarray:
    """Counts of `values` in the baseline's bins (same order as `baseline.labels`)."""
    if baseline.kind == "categorical":
        index = {label: i for i, label in enumerate(baseline.labels)}
        other = index.get(OTHER)
        missing = index.get(MISSING)
        counts = np.zeros(len(baseline.labels), dtype=np.float64)
        for value in values.tolist():
            if value is None or (isinstance(value, float) and math.isnan(value)):
                slot = missing
            else:
                slot = index.get(str(value), other)
            if slot is not None:
                counts[slot] += 1
        return counts
    numbers = np.asarray(values, dtype=np.float64)
    absent = np.isnan(numbers)
    present = numbers[~absent]
    if baseline.kind == "boolean":
        return np.asarray(
            [np.sum(present == 0), np.sum(present != 0), absent.sum()], dtype=np.float64
        )
    edges = np.asarray(baseline.edges, dtype=np.float64)
    if len(edges) < 2:
        return np.asarray([present.size, absent.sum()], dtype=np.float64)
    # The same open-ended binning as modeling.stats.binned.
    which = np.clip(np.searchsorted(edges[1:-1], present, side="right"), 0, len(edges) - 2)
    counts = np.bincount(which, minlength=len(edges) - 1).astype(np.float64)
    return np.append(counts, float(absent.sum()))


@dataclass(frozen=True, kw_only=True)
class BinTest:
    test: str
    statistic: float | None
    p_value: float | None
    degrees_of_freedom: int | None


def chi_square(
    counts: np.ndarray, shares: Sequence[float], baseline_rows: int | None = None
) -> BinTest:
    """Chi-square test of the current counts against the baseline shares (see module doc)."""
    counts = np.asarray(counts, dtype=np.float64)
    expected_share = np.asarray(shares, dtype=np.float64)
    expected_share = expected_share / expected_share.sum()
    n = counts.sum()
    name = "chi-square homogeneity" if baseline_rows else "chi-square goodness of fit"
    if n <= 0:
        return BinTest(test=name, statistic=None, p_value=None, degrees_of_freedom=None)
    pooled_counts, pooled_shares = _pool(counts, expected_share, n)
    if len(pooled_counts) < 2:
        return BinTest(test=name, statistic=None, p_value=None, degrees_of_freedom=None)
    dof = len(pooled_counts) - 1
    if baseline_rows:
        table = np.vstack([pooled_shares * baseline_rows, pooled_counts])
        statistic, p_value, _, _ = sps.chi2_contingency(table, correction=False)
    else:
        statistic, p_value = sps.chisquare(pooled_counts, pooled_shares * n)
    return BinTest(
        test=name, statistic=float(statistic), p_value=float(p_value), degrees_of_freedom=dof
    )


def _pool(counts: np.ndarray, shares: np.ndarray, n: float) -> tuple[np.ndarray, np.ndarray]:
    """Merge bins in order until each pooled bin expects at least MIN_EXPECTED_COUNT rows; a short
    remainder joins the last pooled bin. Empty baseline bins with current rows stay separate
    (their expected share is smoothed), since rows where training had none are the drift."""
    out_counts: list[float] = []
    out_shares: list[float] = []
    acc_c = acc_s = 0.0
    for c, s in zip(counts.tolist(), shares.tolist(), strict=True):
        acc_c += c
        acc_s += s
        if acc_s * n >= MIN_EXPECTED_COUNT:
            out_counts.append(acc_c)
            out_shares.append(acc_s)
            acc_c = acc_s = 0.0
    if acc_c or acc_s:
        if out_counts:
            out_counts[-1] += acc_c
            out_shares[-1] += acc_s
        else:
            out_counts.append(acc_c)
            out_shares.append(acc_s)
    pooled = np.maximum(np.asarray(out_shares), EPSILON)
    return np.asarray(out_counts), pooled / pooled.sum()


@dataclass(frozen=True, kw_only=True)
class FeatureDrift:
    name: str
    kind: str
    psi: float
    excess_psi: float
    level: str
    drifted: bool  # PSI at least moderate and the test significant
    test: BinTest
    rows: int
    baseline_missing_rate: float
    current_missing_rate: float
    bins: tuple[str, ...]
    baseline_shares: tuple[float, ...]
    current_shares: tuple[float, ...]
    # Reported but not counted in the overall score (module doc).
    clock: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.name,
            "type": self.kind,
            "psi": round(self.psi, 6),
            "excessPsi": round(self.excess_psi, 6),
            "level": self.level,
            "drifted": self.drifted,
            "clock": self.clock,
            "test": self.test.test,
            "statistic": _round(self.test.statistic),
            "pValue": _round(self.test.p_value, 8),
            "degreesOfFreedom": self.test.degrees_of_freedom,
            "sampleSize": self.rows,
            "missingRate": {
                "baseline": round(self.baseline_missing_rate, 6),
                "current": round(self.current_missing_rate, 6),
            },
            "bins": [
                {"bin": b, "baseline": round(e, 6), "current": round(a, 6)}
                for b, e, a in zip(
                    self.bins, self.baseline_shares, self.current_shares, strict=True
                )
            ],
        }


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


def feature_drift(
    name: str,
    stats: Mapping[str, Any],
    values: np.ndarray,
    *,
    baseline_rows: int | None = None,
    clock: bool = False,
) -> FeatureDrift | None:
    """Drift of one feature's current values against its stored baseline (None: no bins).
    `clock`: the feature is a clock feature (module doc), kept out of the overall score."""
    baseline = baseline_of(stats)
    if baseline is None or len(values) == 0:
        return None
    counts = current_counts(baseline, values)
    n = int(counts.sum())
    value = psi(baseline.shares, counts)
    test = chi_square(counts, baseline.shares, baseline_rows)
    excess = max(0.0, value - noise_psi(len(baseline.labels), n, baseline_rows))
    band = level(value) or "stable"
    significant = test.p_value is not None and test.p_value < SIGNIFICANCE
    missing_at = baseline.labels.index(MISSING) if MISSING in baseline.labels else None
    return FeatureDrift(
        name=name,
        kind=baseline.kind,
        psi=value,
        excess_psi=excess,
        level=band,
        drifted=band != "stable" and significant,
        test=test,
        rows=n,
        baseline_missing_rate=baseline.shares[missing_at] if missing_at is not None else 0.0,
        current_missing_rate=float(counts[missing_at] / n) if missing_at is not None else 0.0,
        bins=baseline.labels,
        baseline_shares=baseline.shares,
        current_shares=tuple(float(c / n) for c in counts),
        clock=clock,
    )


def overall_drift(drifts: Sequence[FeatureDrift], importance: Mapping[str, float]) -> float | None:
    """Importance-weighted mean excess PSI of the non-clock features (uniform weights when none
    of them has a stored importance); None when there is no non-clock feature."""
    drifts = [d for d in drifts if not d.clock]
    if not drifts:
        return None
    weights = np.asarray([max(float(importance.get(d.name, 0.0)), 0.0) for d in drifts])
    if weights.sum() <= 0:
        weights = np.ones(len(drifts))
    values = np.asarray([d.excess_psi for d in drifts])
    return float(np.sum(weights * values) / weights.sum())
