"""Choosing between the tree model, the linear model and their blend, on inner validation only.

Every candidate is scored on out-of-fold margins of the development rows (each row predicted by
a model that did not train on it). The blend weight w (margin = w*trees + (1 - w)*linear) is
searched on a grid; w = 1 and w = 0 are the single families. A blend is kept only when it beats
the better single family by at least BLEND_MIN_GAIN (relative): two models cost twice the
scoring time and a blend must earn it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

BLEND_WEIGHTS = tuple(round(w, 2) for w in np.linspace(0.0, 1.0, 11))
BLEND_MIN_GAIN = 0.002

Family = Literal["auto", "xgboost", "linear", "blend"]


@dataclass(frozen=True, kw_only=True)
class Selection:
    family: str  # "xgboost", the linear family's name ("logistic" / "ridge"), or "blend"
    tree_weight: float
    criterion: str
    scores: dict[str, float]  # inner-validation criterion per candidate (lower is better)
    weight_scores: dict[str, float]
    reason: str
    extra: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "chosen": self.family,
            "tree_weight": self.tree_weight,
            "criterion": self.criterion,
            "candidates": self.scores,
            "blend_weight_scores": self.weight_scores,
            "reason": self.reason,
            "evaluated_on": "inner validation (out-of-fold predictions of the development rows)",
            **self.extra,
        }


def select_family(
    *,
    tree_oof: np.ndarray | None,
    linear_oof: np.ndarray | None,
    loss: Callable[[np.ndarray], float],
    criterion: str,
    linear_name: str,
    forced: Family,
    extra: dict[str, Any],
) -> Selection:
    if tree_oof is None or linear_oof is None:
        only = "xgboost" if tree_oof is not None else linear_name
        margin = tree_oof if tree_oof is not None else linear_oof
        assert margin is not None
        score = loss(margin)
        return Selection(
            family=only,
            tree_weight=1.0 if only == "xgboost" else 0.0,
            criterion=criterion,
            scores={only: score},
            weight_scores={},
            reason=f"Chose {only}: requested by the caller ({criterion} {score:.4f}).",
            extra=extra,
        )
    weight_scores = {w: loss(w * tree_oof + (1 - w) * linear_oof) for w in BLEND_WEIGHTS}
    tree_score, linear_score = weight_scores[1.0], weight_scores[0.0]
    interior = {w: s for w, s in weight_scores.items() if 0.0 < w < 1.0}
    best_w = min(interior, key=lambda w: (interior[w], w))
    blend_score = interior[best_w]
    single, single_w, single_score = (
        ("xgboost", 1.0, tree_score)
        if tree_score <= linear_score
        else (linear_name, 0.0, linear_score)
    )
    scores = {"xgboost": tree_score, linear_name: linear_score, "blend": blend_score}
    gain = (single_score - blend_score) / single_score if single_score > 0 else 0.0
    summary = (
        f"inner-validation {criterion}: xgboost {tree_score:.4f}, {linear_name} "
        f"{linear_score:.4f}, best blend (tree weight {best_w:.1f}) {blend_score:.4f}"
    )
    if forced == "blend" or (forced == "auto" and gain >= BLEND_MIN_GAIN):
        family, weight = "blend", best_w
        why = (
            "the blend was requested by the caller"
            if forced == "blend"
            else f"the blend beats {single} by {gain:.2%} (needs {BLEND_MIN_GAIN:.1%})"
        )
    elif forced == "xgboost":
        family, weight, why = "xgboost", 1.0, "xgboost was requested by the caller"
    elif forced == "linear":
        family, weight, why = linear_name, 0.0, f"{linear_name} was requested by the caller"
    else:
        family, weight = single, single_w
        other = linear_name if single == "xgboost" else "xgboost"
        blend_note = (
            f"the blend gains only {gain:.2%} over it" if gain > 0 else "no blend improves on it"
        )
        why = (
            f"{single} has a lower {criterion} than {other}, and {blend_note} "
            f"(a blend needs {BLEND_MIN_GAIN:.1%} to justify scoring two models)"
        )
    return Selection(
        family=family,
        tree_weight=float(weight),
        criterion=criterion,
        scores=scores,
        weight_scores={f"{w:.1f}": s for w, s in weight_scores.items()},
        reason=f"Chose {family}: {why}. ({summary}.)",
        extra=extra,
    )
