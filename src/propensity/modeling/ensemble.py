"""The scoring core shared by every task: preprocessing, then trees (XGBoost, and CatBoost for
binary tasks), a linear model, or a blend of them in margin space, with per-feature
contributions that add up to the margin."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from propensity.modeling.catboost_trees import (
    catboost_contributions,
    catboost_margin,
    load_catboost,
)
from propensity.modeling.linear import LinearModel
from propensity.modeling.preprocessing import Preprocessor
from propensity.modeling.table import Table
from propensity.modeling.threads import single_threaded_blas
from propensity.modeling.trees import (
    SHARED_DMATRIX_ROWS,
    booster_from_bytes,
    plain_matrix,
    tree_contributions,
    tree_margin,
)


@dataclass(kw_only=True, eq=False)
class MarginModel:
    """margin = w * xgboost(x) + c * catboost(x) + (1 - w - c) * linear(x), with
    w = `tree_weight` and c = `catboost_weight` (0 for models without CatBoost).

    A blend is defined in margin space (log-odds for binary tasks) precisely so that the weighted
    sum of the families' exact contributions is itself exact."""

    preprocessor: Preprocessor
    booster_raw: bytes | None
    linear: LinearModel | None
    tree_weight: float
    n_threads: int
    catboost_raw: bytes | None = None
    catboost_weight: float = 0.0
    _booster: xgb.Booster | None = field(default=None, init=False, repr=False)
    _catboost: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.tree_weight > 0 and self.booster_raw is None:
            raise ValueError("a tree weight above 0 needs a booster")
        if self.catboost_weight > 0 and self.catboost_raw is None:
            raise ValueError("a CatBoost weight above 0 needs a CatBoost model")
        if self.linear_weight > 0 and self.linear is None:
            raise ValueError("a linear weight above 0 needs a linear model")

    @property
    def linear_weight(self) -> float:
        return linear_share(self.tree_weight, self.catboost_weight)

    @property
    def catboost_model(self) -> Any:
        if self._catboost is None:
            if self.catboost_raw is None:
                raise ValueError("this model has no CatBoost trees")
            self._catboost = load_catboost(self.catboost_raw)
        return self._catboost

    @property
    def booster(self) -> xgb.Booster:
        if self._booster is None:
            if self.booster_raw is None:
                raise ValueError("this model has no trees")
            self._booster = booster_from_bytes(self.booster_raw, self.n_threads)
        return self._booster

    @property
    def family(self) -> str:
        if self.tree_weight >= 1:
            return "xgboost"
        if self.catboost_weight >= 1:
            return "catboost"
        if self.tree_weight <= 0 and self.catboost_weight <= 0:
            return "logistic" if self.linear and self.linear.kind == "logistic" else "ridge"
        return "blend"

    def matrix(self, frame: pd.DataFrame | Table) -> np.ndarray:
        return self.preprocessor.transform(frame)

    def shared_dmatrix(self, x: np.ndarray) -> xgb.DMatrix | None:
        """A DMatrix of `x` for `margin` and `contributions` to share, when `x` has few rows
        and this model has XGBoost trees (trees.SHARED_DMATRIX_ROWS); else None."""
        if self.tree_weight > 0 and len(x) <= SHARED_DMATRIX_ROWS:
            return plain_matrix(x, self.n_threads)
        return None

    @single_threaded_blas
    def margin(self, x: np.ndarray, dmatrix: xgb.DMatrix | None = None) -> np.ndarray:
        total = np.zeros(len(x), dtype=np.float64)
        if self.tree_weight > 0:
            total += self.tree_weight * tree_margin(self.booster, x, dmatrix)
        if self.catboost_weight > 0:
            total += self.catboost_weight * catboost_margin(self.catboost_model, x, self.n_threads)
        if self.linear_weight > 0 and self.linear is not None:
            total += self.linear_weight * self.linear.margin(x)
        return total

    @single_threaded_blas
    def contributions(
        self,
        x: np.ndarray,
        margin: np.ndarray | None = None,
        dmatrix: xgb.DMatrix | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(per-feature contributions (n, F), bias (n,), margin (n,)) with
        bias + contributions.sum(axis=1) == margin.

        XGBoost computes TreeSHAP and its margin in float32, so the two disagree by up to ~1e-5;
        the bias absorbs that rounding (it stays within 1e-4 of TreeSHAP's expected value) so that
        the identity holds exactly against the margin the probability is computed from."""
        n_features = self.preprocessor.n_features
        owner = self.preprocessor.column_feature
        per_feature = np.zeros((len(x), n_features), dtype=np.float64)
        if self.tree_weight > 0:
            shap = tree_contributions(self.booster, x, self.n_threads, dmatrix)[:, :-1]
            per_feature += self.tree_weight * _sum_by_owner(shap, owner, n_features)
        if self.catboost_weight > 0:
            shap = catboost_contributions(self.catboost_model, x, self.n_threads)[:, :-1]
            per_feature += self.catboost_weight * _sum_by_owner(shap, owner, n_features)
        if self.linear_weight > 0 and self.linear is not None:
            columns = self.linear.column_contributions(x)
            linear_owner = self.linear.expanded_owner(owner)
            per_feature += self.linear_weight * _sum_by_owner(columns, linear_owner, n_features)
        # `margin`: this engine's margin of `x` when the caller already has it (scoring asks for
        # the prediction first): one tree pass fewer, and the bias then makes the contributions
        # add up to exactly the margin the prediction was computed from.
        margin = self.margin(x, dmatrix) if margin is None else margin
        bias = margin - per_feature.sum(axis=1)
        return per_feature, bias, margin


def linear_share(tree_weight: float, catboost_weight: float) -> float:
    """The linear model's weight, 1 - w - c, rounded so that weights from the 0.1 grid that add
    up to 1 (0.7 + 0.3) leave exactly 0 and not 5e-17 (which would fit a linear model for
    nothing)."""
    return max(0.0, round(1.0 - tree_weight - catboost_weight, 9))


def _sum_by_owner(columns: np.ndarray, owner: np.ndarray, n_features: int) -> np.ndarray:
    assignment = np.zeros((len(owner), n_features), dtype=np.float64)
    assignment[np.arange(len(owner)), owner] = 1.0
    return np.asarray(columns @ assignment, dtype=np.float64)
