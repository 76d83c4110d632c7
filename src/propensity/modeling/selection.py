"""Choosing among the tree models, the linear model and their blends, on inner validation only.

Every candidate is scored on out-of-fold margins of the development rows (each row predicted by
a model that did not train on it). The blend weights (margin = w*xgboost + c*catboost +
(1 - w - c)*linear, CatBoost only where it is a candidate) are searched on a 0.1 grid that adds
up to 1; the corners are the single families. A blend is kept only when it beats
the better single family by at least BLEND_MIN_GAIN (relative): two models cost twice the
scoring time and a blend must earn it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

BLEND_STEP = 0.1
BLEND_MIN_GAIN = 0.002

Family = Literal["auto", "xgboost", "catboost", "linear", "blend"]


@dataclass(frozen=True, kw_only=True)
class Selection:
    family: str  # "xgboost", "catboost", the linear family's name ("logistic" / "ridge"), "blend"
    tree_weight: float  # XGBoost's weight in the margin
    criterion: str
    scores: dict[str, float]  # inner-validation criterion per candidate (lower is better)
    weight_scores: dict[str, float]
    reason: str
    extra: dict[str, Any]
    catboost_weight: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "chosen": self.family,
            "tree_weight": self.tree_weight,
            **({"catboost_weight": self.catboost_weight} if self.catboost_weight else {}),
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
    catboost_oof: np.ndarray | None = None,
) -> Selection:
    offered = (("xgboost", tree_oof), ("catboost", catboost_oof), (linear_name, linear_oof))
    members = {name: oof for name, oof in offered if oof is not None}
    if len(members) == 1:
        ((only, margin),) = members.items()
        score = loss(margin)
        return Selection(
            family=only,
            tree_weight=1.0 if only == "xgboost" else 0.0,
            catboost_weight=1.0 if only == "catboost" else 0.0,
            criterion=criterion,
            scores={only: score},
            weight_scores={},
            reason=f"Chose {only}: requested by the caller ({criterion} {score:.4f}).",
            extra=extra,
        )
    names = list(members)
    grid = _simplex(len(names))
    stacked = np.stack([members[n] for n in names])
    weight_scores = {
        weights: loss(np.tensordot(np.asarray(weights), stacked, axes=1)) for weights in grid
    }
    singles = {n: weight_scores[_unit(len(names), i)] for i, n in enumerate(names)}
    interior = {w: s for w, s in weight_scores.items() if sum(v > 0 for v in w) >= 2}
    best_w = min(interior, key=lambda w: (interior[w], w))
    blend_score = interior[best_w]
    single = min(singles, key=lambda n: (singles[n], names.index(n)))
    single_score = singles[single]
    scores = {**singles, "blend": blend_score}
    gain = (single_score - blend_score) / single_score if single_score > 0 else 0.0
    described = ", ".join(f"{n} {singles[n]:.4f}" for n in names)
    summary = (
        f"inner-validation {criterion}: {described}, best blend ({_describe(best_w, names)}) "
        f"{blend_score:.4f}"
    )
    wanted = linear_name if forced == "linear" else forced
    if forced == "blend" or (forced == "auto" and gain >= BLEND_MIN_GAIN):
        family, weights = "blend", best_w
        why = (
            "the blend was requested by the caller"
            if forced == "blend"
            else f"the blend beats {single} by {gain:.2%} (needs {BLEND_MIN_GAIN:.1%})"
        )
    elif forced != "auto" and wanted in members:
        family, weights = wanted, _unit(len(names), names.index(wanted))
        why = f"{wanted} was requested by the caller"
    else:
        family, weights = single, _unit(len(names), names.index(single))
        others = " and ".join(n for n in names if n != single)
        blend_note = (
            f"the blend gains only {gain:.2%} over it" if gain > 0 else "no blend improves on it"
        )
        why = (
            f"{single} has a lower {criterion} than {others}, and {blend_note} "
            f"(a blend needs {BLEND_MIN_GAIN:.1%} to justify scoring more than one model)"
        )
    by_name = dict(zip(names, weights, strict=True))
    return Selection(
        family=family,
        tree_weight=float(by_name.get("xgboost", 0.0)),
        catboost_weight=float(by_name.get("catboost", 0.0)),
        criterion=criterion,
        scores=scores,
        weight_scores={_key(w): s for w, s in weight_scores.items()},
        reason=f"Chose {family}: {why}. ({summary}.)",
        extra={**extra, "blend_members": names} if len(names) > 2 else extra,
    )


def _simplex(members: int) -> list[tuple[float, ...]]:
    """Weights on a 0.1 grid that add up to 1: for two members the tree weight 0, 0.1, ..., 1."""
    steps = round(1 / BLEND_STEP)
    if members == 2:
        return [(round(k * BLEND_STEP, 2), round(1 - k * BLEND_STEP, 2)) for k in range(steps + 1)]
    return [
        (round(i * BLEND_STEP, 2), round(j * BLEND_STEP, 2), round((steps - i - j) * BLEND_STEP, 2))
        for i in range(steps + 1)
        for j in range(steps + 1 - i)
    ]


def _unit(members: int, index: int) -> tuple[float, ...]:
    return tuple(1.0 if k == index else 0.0 for k in range(members))


def _key(weights: tuple[float, ...]) -> str:
    """Two members: the tree weight ("0.3"), as stored before; three: every weight in the order
    of `blend_members` ("0.3/0.5/0.2")."""
    if len(weights) == 2:
        return f"{weights[0]:.1f}"
    return "/".join(f"{w:.1f}" for w in weights)


def _describe(weights: tuple[float, ...], names: list[str]) -> str:
    if len(weights) == 2:
        return f"tree weight {weights[0]:.1f}"
    return ", ".join(f"{n} {w:.1f}" for n, w in zip(names, weights, strict=True) if w > 0)
