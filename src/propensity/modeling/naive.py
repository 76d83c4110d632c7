"""Naive baselines every model is measured against, on the same rows as its own metrics.

A model earns its place only by beating what needs no model: the base rate for churn and
conversion, "the score stays where it is" and "the recent trend goes on" for a health score
30 days ahead. The margins are stored with the model version's metrics (flat numbers, so the
model pages show them without a schema change)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from propensity.modeling.metrics import Metrics, log_loss


def binary_naive(probability: np.ndarray, y: np.ndarray, *, base_rate: float) -> Metrics:
    """Brier and log-loss of predicting the development rows' base rate for every row, and
    the model's skill over it (1 - model / naive: 0 = no better, 1 = perfect)."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(probability, dtype=np.float64)
    naive = np.full(len(y), base_rate)
    naive_brier = float(np.mean((naive - y) ** 2))
    naive_log_loss = log_loss(naive, y)
    brier = float(np.mean((p - y) ** 2))
    model_log_loss = log_loss(p, y)
    return {
        "naive_base_rate": base_rate,
        "naive_brier": naive_brier,
        "naive_log_loss": naive_log_loss,
        "brier_skill": 1 - brier / naive_brier if naive_brier > 0 else None,
        "log_loss_skill": 1 - model_log_loss / naive_log_loss if naive_log_loss > 0 else None,
    }


# The feature holding an account's least-squares health slope per 30 days over the last 90
# (propensity.features.health); the trend forecast needs no model beyond it.
SLOPE_FEATURE = "health_slope_90d"


def health_trend_naive(
    frame: pd.DataFrame, current_scores: np.ndarray | None
) -> dict[str, np.ndarray] | None:
    """Two forecasts of the score 30 days ahead: the last score, and the last score plus the
    account's own recent slope; NaN where an input is missing. None without last scores."""
    if current_scores is None:
        return None
    current = np.asarray(current_scores, dtype=np.float64)
    if SLOPE_FEATURE in frame.columns:
        slope = pd.to_numeric(frame[SLOPE_FEATURE], errors="coerce").to_numpy(dtype=np.float64)
    else:
        slope = np.full(len(current), np.nan)
    return {"last_score": current, "linear_trend": current + slope}


def regression_naive(
    predicted: np.ndarray,
    y: np.ndarray,
    naive: Mapping[str, np.ndarray],
    *,
    fallback: float,
) -> Metrics:
    """MAE of each naive forecast and the model's MAE skill over it. A naive forecast that is
    missing for a row (no last score, too few snapshots for a slope) falls back to `fallback`
    (the development mean) for that row, so every forecast is judged on every row."""
    y = np.asarray(y, dtype=np.float64)
    mae = float(np.mean(np.abs(np.asarray(predicted, dtype=np.float64) - y)))
    out: Metrics = {}
    for name, values in naive.items():
        forecast = np.where(np.isnan(values), fallback, values)
        naive_mae = float(np.mean(np.abs(forecast - y)))
        out[f"naive_{name}_mae"] = naive_mae
        out[f"mae_skill_vs_{name}"] = 1 - mae / naive_mae if naive_mae > 0 else None
    return out
