"""Feature statistics stored with every model: the baseline that drift checks and the features
endpoint compare live data against. Everything is JSON-serialisable (no NaN: None instead)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from propensity.modeling.encoding import DAY_NS
from propensity.modeling.preprocessing import Decoded, Preprocessor
from propensity.modeling.specs import FeatureKind

TOP_CATEGORIES = 20
QUANTILE_BINS = 10


def _num(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def numeric_summary(values: np.ndarray) -> dict[str, Any]:
    present = values[~np.isnan(values)]
    out: dict[str, Any] = {"missing_rate": float(np.isnan(values).mean()) if len(values) else 0.0}
    if present.size == 0:
        out.update(
            min=None,
            max=None,
            mean=None,
            std=None,
            skew=None,
            p1=None,
            p99=None,
            bins={"edges": [], "proportions": []},
        )
        return out
    mean = float(present.mean())
    std = float(present.std())
    skew = float(np.mean(((present - mean) / std) ** 3)) if std > 0 else 0.0
    p1, p99 = np.percentile(present, [1, 99])
    edges = np.unique(np.percentile(present, np.linspace(0, 100, QUANTILE_BINS + 1)))
    out.update(
        min=float(present.min()),
        max=float(present.max()),
        mean=mean,
        std=std,
        skew=skew,
        p1=float(p1),
        p99=float(p99),
        bins=binned(present, edges),
    )
    return out


def binned(present: np.ndarray, edges: np.ndarray) -> dict[str, list[float]]:
    """Share of non-missing values per bin. The outer bins are open-ended (drift checks bin new
    data that may fall outside the training range with the same edges)."""
    if len(edges) < 2:
        return {"edges": [float(e) for e in edges], "proportions": [1.0] if len(edges) else []}
    which = np.clip(np.searchsorted(edges[1:-1], present, side="right"), 0, len(edges) - 2)
    counts = np.bincount(which, minlength=len(edges) - 1)
    return {
        "edges": [float(e) for e in edges],
        "proportions": [float(c) / len(present) for c in counts],
    }


def categorical_summary(values: np.ndarray) -> dict[str, Any]:
    labels = [v for v in values.tolist() if v is not None]
    counts = Counter(labels)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    top = ranked[:TOP_CATEGORIES]
    n = max(len(values), 1)
    frequencies = {k: c / n for k, c in top}
    other = sum(c for _, c in ranked[TOP_CATEGORIES:]) / n
    return {
        "missing_rate": (len(values) - len(labels)) / n,
        "distinct": len(counts),
        "frequencies": frequencies,
        "other_rate": other,
        # Category proportions over rows, the drift baseline for categorical features.
        "bins": {
            "categories": [k for k, _ in top] + ["__other__", "__missing__"],
            "proportions": [*frequencies.values(), other, (len(values) - len(labels)) / n],
        },
    }


def feature_statistics(preprocessor: Preprocessor, decoded: Sequence[Decoded]) -> dict[str, Any]:
    stats: dict[str, Any] = {}
    for plan, values in zip(preprocessor.plans, decoded, strict=True):
        spec = plan.spec
        base: dict[str, Any] = {"kind": spec.kind.value, "group": spec.group.value}
        if spec.kind is FeatureKind.CATEGORICAL:
            base.update(categorical_summary(values))
        else:
            base.update(numeric_summary(values))
        if spec.kind is FeatureKind.BOOLEAN:
            present = values[~np.isnan(values)]
            base["true_rate"] = float(present.mean()) if present.size else None
        if spec.kind is FeatureKind.DATETIME and plan.reference_ns is not None:
            # Datetimes are modelled as days before the newest training value (the reference).
            base["unit"] = "days before reference"
            base["reference"] = _iso(plan.reference_ns)
            if base["max"] is not None:
                base["earliest"] = _iso(plan.reference_ns - int(base["max"] * DAY_NS))
        stats[spec.name] = base
    return stats


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).isoformat()
