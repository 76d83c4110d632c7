"""How far to trust one prediction.

    confidence = quality * familiarity

quality: the model's held-out skill scaled to [0, 1]: 2*ROC-AUC - 1 (binary), 2*C-index - 1
(time to event), 1 - MAE / MAE of predicting the training mean (regression); floored at 0.
familiarity: 1 - sum_f w_f * surprise_f(row) with weights w_f = 0.5 * importance_f + 0.5 / F (the
important features count most, every feature counts a little), and surprise_f =
  * 1 - (training missing rate of f) when the value is missing (missing where training rarely was
    is surprising; missing where it usually was is not),
  * 1 when a number lies outside the training [p1, p99] range and is not a value at least 1% of
    training rows held (so 0/1 flags are never "out of range"),
  * 1 - (training share of rare categories) for a category that is rare or never seen,
  * 0 otherwise.
So a typical training-like row scores close to the model's quality and an unusual one less.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from propensity.modeling.memo import IdentityMemo
from propensity.modeling.preprocessing import Decoded, Preprocessor

COMMON_VALUE_SHARE = 0.01
# Up to this many rows, familiarity is computed row by row (see _familiarity_rows).
SMALL_ROWS = 64
MAX_COMMON_VALUES = 100


@dataclass(frozen=True, kw_only=True)
class FeatureReference:
    weight: float
    missing_rate: float
    categorical: bool
    p1: float = 0.0
    p99: float = 0.0
    common: tuple[float, ...] = ()
    rare_rate: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "weight": self.weight,
            "missing_rate": self.missing_rate,
            "categorical": self.categorical,
            "p1": self.p1,
            "p99": self.p99,
            "common": list(self.common),
            "rare_rate": self.rare_rate,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureReference:
        return cls(
            weight=float(data["weight"]),
            missing_rate=float(data["missing_rate"]),
            categorical=bool(data["categorical"]),
            p1=float(data["p1"]),
            p99=float(data["p99"]),
            common=tuple(float(v) for v in data["common"]),
            rare_rate=float(data["rare_rate"]),
        )


def build_references(
    preprocessor: Preprocessor, decoded: Sequence[Decoded], importance: Sequence[float]
) -> list[FeatureReference]:
    n_features = preprocessor.n_features
    references: list[FeatureReference] = []
    for plan, values, share in zip(preprocessor.plans, decoded, importance, strict=True):
        weight = 0.5 * float(share) + 0.5 / n_features
        if plan.is_categorical:
            present = [v for v in values.tolist() if v is not None]
            kept = set(plan.levels)
            rare = sum(1 for v in present if v not in kept)
            references.append(
                FeatureReference(
                    weight=weight,
                    missing_rate=1 - len(present) / max(len(values), 1),
                    categorical=True,
                    rare_rate=rare / max(len(present), 1),
                )
            )
            continue
        present_values = values[~np.isnan(values)]
        p1, p99 = np.percentile(present_values, [1, 99]) if present_values.size else (0.0, 0.0)
        unique, counts = np.unique(present_values, return_counts=True)
        frequent = unique[counts >= COMMON_VALUE_SHARE * max(present_values.size, 1)]
        references.append(
            FeatureReference(
                weight=weight,
                missing_rate=1 - present_values.size / max(len(values), 1),
                categorical=False,
                p1=float(p1),
                p99=float(p99),
                common=tuple(float(v) for v in frequent[:MAX_COMMON_VALUES]),
            )
        )
    return references


def familiarity(
    preprocessor: Preprocessor,
    decoded: Sequence[Decoded],
    references: Sequence[FeatureReference],
) -> np.ndarray:
    n = len(decoded[0]) if decoded else 0
    if n <= SMALL_ROWS:
        return _familiarity_rows(preprocessor, decoded, references)
    surprise_total = np.zeros(n, dtype=np.float64)
    for plan, values, ref in zip(preprocessor.plans, decoded, references, strict=True):
        if ref.categorical:
            missing = np.asarray([v is None for v in values.tolist()], dtype=bool)
            kept = set(plan.levels)
            rare = np.asarray([v is not None and v not in kept for v in values.tolist()])
            surprise = np.where(missing, 1 - ref.missing_rate, 0.0)
            surprise = np.where(rare, 1 - ref.rare_rate, surprise)
        else:
            missing = np.isnan(values)
            outside = ~missing & ((values < ref.p1) | (values > ref.p99))
            if ref.common:
                outside &= ~np.isin(values, np.asarray(ref.common))
            surprise = np.where(missing, 1 - ref.missing_rate, outside.astype(np.float64))
        surprise_total += ref.weight * surprise
    return np.clip(1.0 - surprise_total, 0.0, 1.0)


def _familiarity_rows(
    preprocessor: Preprocessor,
    decoded: Sequence[Decoded],
    references: Sequence[FeatureReference],
) -> np.ndarray:
    """familiarity() row by row in Python floats, the same operations in the same order (so
    the same doubles): for one row, a dozen numpy calls per feature cost far more than the
    arithmetic."""
    n = len(decoded[0]) if decoded else 0
    columns = [values.tolist() for values in decoded]
    rules = _rules.get(references, lambda refs: _build_rules(preprocessor, refs))
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        total = 0.0
        for (ref, kept, common), values in zip(rules, columns, strict=True):
            value = values[i]
            if ref.categorical:
                if value is None:
                    surprise = 1 - ref.missing_rate
                elif value not in kept:
                    surprise = 1 - ref.rare_rate
                else:
                    surprise = 0.0
            elif value != value:
                surprise = 1 - ref.missing_rate
            elif (value < ref.p1 or value > ref.p99) and value not in common:
                surprise = 1.0
            else:
                surprise = 0.0
            total += ref.weight * surprise
        out[i] = min(max(1.0 - total, 0.0), 1.0)
    return out


# Per model's references (with its preprocessor's plans): the sets a row is checked against.
_rules = IdentityMemo()


def _build_rules(
    preprocessor: Preprocessor, references: Sequence[FeatureReference]
) -> list[tuple[FeatureReference, set[Any], set[Any]]]:
    return [
        (ref, set(plan.levels), set(ref.common))
        for plan, ref in zip(preprocessor.plans, references, strict=True)
    ]


def quality_from_score(score: float | None, *, kind: str) -> float:
    """Held-out skill in [0, 1]; `kind` is "auc" (ROC-AUC or C-index) or "skill" (already 0-1)."""
    if score is None or not np.isfinite(score):
        return 0.0
    value = 2.0 * score - 1.0 if kind == "auc" else score
    return float(np.clip(value, 0.0, 1.0))
