"""Drift of a model's outputs and of its accuracy: pure functions.

Score drift is the PSI (drift.py) of current model outputs against reference outputs on the
reference's deciles, with a two-sample Kolmogorov-Smirnov test (both samples are raw values).

Concept drift compares the accuracy of recently validated predictions with the model's held-out
accuracy: score = max(0, held-out - recent); confidence = 1 - p of a one-sided binomial test that
the recent accuracy is below the held-out one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as sps

from propensity.monitoring.drift import level, psi

SCORE_BINS = 10


@dataclass(frozen=True, kw_only=True)
class ScoreDrift:
    psi: float
    level: str
    ks_statistic: float
    p_value: float
    reference_rows: int
    current_rows: int
    reference_mean: float
    current_mean: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "psi": round(self.psi, 6),
            "level": self.level,
            "test": "two-sample Kolmogorov-Smirnov",
            "statistic": round(self.ks_statistic, 6),
            "pValue": round(self.p_value, 8),
            "referenceRows": self.reference_rows,
            "currentRows": self.current_rows,
            "referenceMean": round(self.reference_mean, 6),
            "currentMean": round(self.current_mean, 6),
        }


def score_drift(reference: np.ndarray, current: np.ndarray) -> ScoreDrift | None:
    """PSI on the reference's deciles plus a two-sample KS test (None when a sample is empty)."""
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    if ref.size == 0 or cur.size == 0:
        return None
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, SCORE_BINS + 1)))
    if len(edges) < 2:
        # A constant reference: the share of current outputs equal to it, and the rest.
        same = float(np.mean(cur == edges[0]))
        ref_shares, cur_shares = np.asarray([1.0, 0.0]), np.asarray([same, 1.0 - same])
    else:
        ref_shares = _decile_shares(ref, edges)
        cur_shares = _decile_shares(cur, edges)
    value = psi(ref_shares, cur_shares)
    ks = sps.ks_2samp(ref, cur)
    return ScoreDrift(
        psi=value,
        level=level(value) or "stable",
        ks_statistic=float(ks.statistic),
        p_value=float(ks.pvalue),
        reference_rows=int(ref.size),
        current_rows=int(cur.size),
        reference_mean=float(ref.mean()),
        current_mean=float(cur.mean()),
    )


def _decile_shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    which = np.clip(np.searchsorted(edges[1:-1], values, side="right"), 0, len(edges) - 2)
    return np.bincount(which, minlength=len(edges) - 1) / len(values)


@dataclass(frozen=True, kw_only=True)
class ConceptDrift:
    score: float
    confidence: float
    recent_accuracy: float
    baseline_accuracy: float
    validated: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 6),
            "confidence": round(self.confidence, 6),
            "recentAccuracy": round(self.recent_accuracy, 6),
            "heldOutAccuracy": round(self.baseline_accuracy, 6),
            "validatedPredictions": self.validated,
        }


def concept_drift(*, accurate: int, validated: int, baseline_accuracy: float) -> ConceptDrift:
    """Recent accuracy against the held-out accuracy (see module doc); `validated` > 0."""
    if validated <= 0:
        raise ValueError("concept drift needs at least one validated prediction")
    recent = accurate / validated
    p = min(max(baseline_accuracy, 0.0), 1.0)
    p_value = float(sps.binomtest(accurate, validated, p, alternative="less").pvalue)
    return ConceptDrift(
        score=max(0.0, baseline_accuracy - recent),
        confidence=1.0 - p_value,
        recent_accuracy=recent,
        baseline_accuracy=baseline_accuracy,
        validated=validated,
    )
