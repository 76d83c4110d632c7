"""The points behind a binary model's ROC curve and reliability (calibration) diagram, from
probabilities and outcomes (pure: arrays in, JSON-ready dicts out).

Trainers store them from the held-out test split (the same rows and the same 10 equal-width
bins as the stored ROC-AUC and ECE), so the dashboard draws what the metrics measured; the
monitoring package computes the same shapes from validated predictions when a model was
trained before they were stored.

* ROC: the exact curve (one point per distinct probability, sklearn.metrics.roc_curve), thinned
  to at most MAX_ROC_POINTS by keeping evenly spaced points and always both ends, so it stays
  small enough to keep with the model and draw on a page.
* Reliability: per bin, rows, mean predicted probability and observed positive rate; empty
  bins are left out. ECE = sum(rows / n * |mean predicted - observed|) over these bins, the
  stored `ece` metric (modeling.metrics.expected_calibration_error).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import roc_curve

from propensity.modeling.metrics import ECE_BINS, roc_auc

MAX_ROC_POINTS = 101


def _rounded(value: float) -> float:
    return round(float(value), 4)


def roc_points(
    probability: np.ndarray, y: np.ndarray, *, max_points: int = MAX_ROC_POINTS
) -> list[dict[str, float]]:
    """[{fpr, tpr, threshold}], fpr ascending from (0, 0) to (1, 1); empty without both
    classes (no curve exists)."""
    y = np.asarray(y, dtype=np.float64)
    if len(np.unique(y)) < 2:
        return []
    fpr, tpr, thresholds = roc_curve(y, np.asarray(probability, dtype=np.float64))
    keep = np.arange(len(fpr))
    if len(keep) > max_points:
        keep = np.unique(np.round(np.linspace(0, len(fpr) - 1, max_points)).astype(np.int64))
    return [
        {
            "fpr": _rounded(fpr[i]),
            "tpr": _rounded(tpr[i]),
            # roc_curve's first threshold is +inf (nothing flagged); 1.0 says the same in JSON.
            "threshold": _rounded(min(1.0, float(thresholds[i]))),
        }
        for i in keep
    ]


def reliability_bins(
    probability: np.ndarray, y: np.ndarray, *, bins: int = ECE_BINS
) -> list[dict[str, float | int]]:
    """[{low, high, rows, predicted, observed}] for each non-empty equal-width bin."""
    probability = np.asarray(probability, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    which = np.minimum((probability * bins).astype(np.int64), bins - 1)
    out: list[dict[str, float | int]] = []
    for b in range(bins):
        mask = which == b
        if not mask.any():
            continue
        out.append(
            {
                "low": _rounded(b / bins),
                "high": _rounded((b + 1) / bins),
                "rows": int(mask.sum()),
                "predicted": _rounded(probability[mask].mean()),
                "observed": _rounded(y[mask].mean()),
            }
        )
    return out


def ece_of(reliability: list[dict[str, Any]]) -> float | None:
    """The expected calibration error the bins describe (None without rows)."""
    rows = sum(int(b["rows"]) for b in reliability)
    if not rows:
        return None
    gap = sum(
        int(b["rows"]) * abs(float(b["predicted"]) - float(b["observed"])) for b in reliability
    )
    return gap / rows


def binary_curves(probability: np.ndarray, y: np.ndarray, *, evaluated_on: str) -> dict[str, Any]:
    """Both curves of one set of predictions, with what they were measured on."""
    probability = np.asarray(probability, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return {
        "evaluated_on": evaluated_on,
        "rows": len(y),
        "positives": int(y.sum()),
        "roc_auc": roc_auc(probability, y),
        "roc": roc_points(probability, y),
        "reliability": reliability_bins(probability, y),
        "bins": ECE_BINS,
    }
