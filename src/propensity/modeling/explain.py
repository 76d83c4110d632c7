"""Per-prediction explanations in the model's raw (margin) space."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from propensity.modeling.memo import IdentityMemo
from propensity.modeling.specs import FeatureGroup, FeatureSpec

GROUPS: tuple[FeatureGroup, ...] = tuple(FeatureGroup)
_GROUP_NAMES = tuple(g.value for g in GROUPS)


@dataclass(frozen=True, kw_only=True)
class Explanation:
    """For every row: raw == bias + contributions.sum(axis=1) (to float64 rounding).

    `space` names the raw output: "log_odds" (binary: probability = calibrator(raw)),
    "log_days" (time to event: predicted median days = exp(raw + shift)) or "target"
    (regression: prediction = raw). `prediction` is the task's final output for the row.
    Group sums cover all four groups (0 for a group without features), in FeatureGroup order."""

    features: tuple[FeatureSpec, ...]
    contributions: np.ndarray  # (rows, features)
    bias: np.ndarray  # (rows,)
    raw: np.ndarray  # (rows,)
    prediction: np.ndarray  # (rows,)
    space: str

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def groups(self) -> tuple[FeatureGroup, ...]:
        return GROUPS

    @cached_property
    def group_contributions(self) -> np.ndarray:
        """(rows, 4): contributions summed per feature group."""
        # One product with the model's (features, groups) 0/1 matrix: a loop over the
        # features cost a one-row explanation more than its TreeSHAP.
        return np.asarray(self.contributions @ _membership(self.features), dtype=np.float64)

    def contributions_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.contributions, columns=self.feature_names)

    def group_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.group_contributions, columns=[g.value for g in GROUPS])

    def row(self, i: int) -> dict[str, Any]:
        """One row as plain JSON-ready values, features ordered by |contribution| descending."""
        values = self.contributions[i]
        order = np.argsort(-np.abs(values), kind="stable")
        return {
            "space": self.space,
            "raw": float(self.raw[i]),
            "bias": float(self.bias[i]),
            "prediction": float(self.prediction[i]),
            # tolist() gives the same Python floats as float() per cell, in one call.
            "contributions": dict(
                zip(_names(self.features)[order].tolist(), values[order].tolist(), strict=True)
            ),
            "groups": dict(zip(_GROUP_NAMES, self.group_contributions[i].tolist(), strict=True)),
        }

    def __len__(self) -> int:
        return len(self.raw)


_memberships = IdentityMemo()
_name_arrays = IdentityMemo()


def _names(features: tuple[FeatureSpec, ...]) -> np.ndarray:
    """The feature names as an object array, to reorder with an index array; kept per model."""
    return _name_arrays.get(features, lambda specs: np.array([f.name for f in specs], object))


def _membership(features: tuple[FeatureSpec, ...]) -> np.ndarray:
    """(features, groups): 1 where the feature belongs to the group; kept per model's tuple."""
    return _memberships.get(features, _build_membership)


def _build_membership(features: tuple[FeatureSpec, ...]) -> np.ndarray:
    membership = np.zeros((len(features), len(GROUPS)), dtype=np.float64)
    for j, spec in enumerate(features):
        membership[j, GROUPS.index(spec.group)] = 1.0
    membership.setflags(write=False)
    return membership
