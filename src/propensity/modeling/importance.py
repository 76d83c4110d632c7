"""Global feature importance and the training-data description a model keeps: importance
shares, feature statistics and the references its confidence compares new inputs with."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from propensity.modeling.confidence import FeatureReference, build_references
from propensity.modeling.ensemble import MarginModel
from propensity.modeling.stats import feature_statistics

# Global importance is the mean |contribution| over at most this many development rows: enough
# for stable shares, cheap enough that TreeSHAP does not dominate training time.
IMPORTANCE_SAMPLE = 2000

# Importance shares are kept to 0.01 %: what the documents show, and they still add up to 1.
IMPORTANCE_DIGITS = 4


def global_importance(engine: MarginModel, x_dev: np.ndarray, seed: int) -> np.ndarray:
    """Mean |contribution| per feature over (a sample of) the development rows, summing to 1."""
    rng = np.random.default_rng(seed)
    rows = np.arange(len(x_dev))
    if len(rows) > IMPORTANCE_SAMPLE:
        rows = np.sort(rng.choice(rows, IMPORTANCE_SAMPLE, replace=False))
    contributions, _, _ = engine.contributions(x_dev[rows])
    magnitude = np.abs(contributions).mean(axis=0)
    total = magnitude.sum()
    if total <= 0:
        return np.full(len(magnitude), 1.0 / max(len(magnitude), 1))
    return np.asarray(magnitude / total, dtype=np.float64)


def rounded_shares(shares: list[float], *, digits: int) -> list[float]:
    """Shares rounded to `digits` that still add up to their rounded total (the largest
    remainders get the last units), in the same order when sorted largest first. Rounded one
    by one, a hundred features' importance shares summed to 1.0003."""
    scale = 10**digits
    scaled = [share * scale for share in shares]
    units = [math.floor(value) for value in scaled]
    missing = round(sum(scaled)) - sum(units)
    by_remainder = sorted(range(len(scaled)), key=lambda i: (units[i] - scaled[i], i))
    for i in by_remainder[: max(missing, 0)]:
        units[i] += 1
    return [unit / scale for unit in units]


@dataclass(frozen=True, kw_only=True)
class Baseline:
    importance: dict[str, float]
    feature_stats: dict[str, Any]
    references: list[FeatureReference]


def describe_training_data(
    engine: MarginModel, frame_dev: pd.DataFrame, x_dev: np.ndarray, seed: int
) -> Baseline:
    preprocessor = engine.preprocessor
    decoded = preprocessor.decode(frame_dev)
    shares = global_importance(engine, x_dev, seed)
    names = [s.name for s in preprocessor.specs]
    ranked = sorted(zip(names, shares.tolist(), strict=True), key=lambda kv: -kv[1])
    kept = rounded_shares([share for _, share in ranked], digits=IMPORTANCE_DIGITS)
    return Baseline(
        importance={name: share for (name, _), share in zip(ranked, kept, strict=True)},
        feature_stats=feature_statistics(preprocessor, decoded),
        references=build_references(preprocessor, decoded, shares.tolist()),
    )
