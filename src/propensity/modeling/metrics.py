"""Held-out metrics. Every value is a plain float (or None when undefined, e.g. ROC-AUC on a test
split with one class), so metrics go straight into JSON."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

ECE_BINS = 10  # equal-width probability bins on [0, 1]; each bin weighted by its share of rows
PROBABILITY_FLOOR = 1e-15

Metrics = dict[str, float | int | str | None]


def expected_calibration_error(
    probability: np.ndarray, y: np.ndarray, bins: int = ECE_BINS
) -> float:
    """Sum over bins of (rows in bin / rows) * |mean predicted probability - positive rate|."""
    probability = np.asarray(probability, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    which = np.minimum((probability * bins).astype(np.int64), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.sum() * abs(probability[mask].mean() - y[mask].mean())
    return float(total / max(len(y), 1))


def log_loss(probability: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(np.asarray(probability, dtype=np.float64), PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
    y = np.asarray(y, dtype=np.float64)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def roc_auc(probability: np.ndarray, y: np.ndarray) -> float | None:
    if len(np.unique(y)) < 2:
        return None
    return float(roc_auc_score(y, probability))


def binary_metrics(probability: np.ndarray, y: np.ndarray, *, threshold: float) -> Metrics:
    y = np.asarray(y, dtype=np.float64)
    probability = np.asarray(probability, dtype=np.float64)
    flagged = probability >= threshold
    true_pos = float(np.sum(flagged & (y == 1)))
    precision = true_pos / flagged.sum() if flagged.any() else 0.0
    recall = true_pos / y.sum() if y.sum() else 0.0
    both = precision + recall
    return {
        "rows": len(y),
        "positives": int(y.sum()),
        "base_rate": float(y.mean()) if len(y) else None,
        "roc_auc": roc_auc(probability, y),
        "pr_auc": float(average_precision_score(y, probability)) if y.sum() else None,
        "accuracy": float(np.mean(flagged == (y == 1))),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(2 * precision * recall / both) if both else 0.0,
        "threshold": float(threshold),
        "log_loss": log_loss(probability, y),
        "brier": float(np.mean((probability - y) ** 2)),
        "ece": expected_calibration_error(probability, y),
        "ece_bins": ECE_BINS,
    }


def concordance_index(
    durations: np.ndarray, observed: np.ndarray, predicted: np.ndarray
) -> float | None:
    """Harrell's C for predicted times: among pairs where the shorter duration is an observed
    event (so its order is known despite censoring), the share in which the model also predicts
    the shorter time; equal predictions count one half. Pairs with equal durations are skipped.
    O(n log n) with a Fenwick tree over prediction ranks."""
    durations = np.asarray(durations, dtype=np.float64)
    observed = np.asarray(observed, dtype=bool)
    ranks = np.unique(np.asarray(predicted, dtype=np.float64), return_inverse=True)[1] + 1
    size = int(ranks.max()) if len(ranks) else 0
    tree = np.zeros(size + 1, dtype=np.int64)

    def add(i: int) -> None:
        while i <= size:
            tree[i] += 1
            i += i & -i

    def below(i: int) -> int:  # how many inserted ranks are <= i
        total = 0
        while i > 0:
            total += int(tree[i])
            i -= i & -i
        return total

    order = np.argsort(-durations, kind="stable")
    concordant = ties = comparable = 0.0
    inserted = 0
    position = 0
    while position < len(order):
        # Rows sharing a duration are compared only with strictly longer ones, already inserted.
        end = position
        while end < len(order) and durations[order[end]] == durations[order[position]]:
            end += 1
        group = order[position:end]
        for i in group:
            if observed[i] and inserted:
                r = int(ranks[i])
                le = below(r)
                lt = below(r - 1)
                concordant += inserted - le  # longer-lived rows predicted longer
                ties += le - lt
                comparable += inserted
        for i in group:
            add(int(ranks[i]))
            inserted += 1
        position = end
    if comparable == 0:
        return None
    return float((concordant + 0.5 * ties) / comparable)


def regression_metrics(predicted: np.ndarray, y: np.ndarray, *, train_mean: float) -> Metrics:
    y = np.asarray(y, dtype=np.float64)
    error = np.asarray(predicted, dtype=np.float64) - y
    baseline = float(np.mean(np.abs(y - train_mean)))
    mae = float(np.mean(np.abs(error)))
    variance = float(np.var(y))
    return {
        "rows": len(y),
        "mae": mae,
        "rmse": float(np.sqrt(np.mean(error**2))),
        "r2": float(1 - np.mean(error**2) / variance) if variance > 0 else None,
        "baseline_mae": baseline,
        "mae_skill": float(1 - mae / baseline) if baseline > 0 else None,
    }
