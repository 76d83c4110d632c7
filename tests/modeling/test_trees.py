"""The trees' margin is the same floats predicted in place, through a DMatrix, or through one
DMatrix shared with the contributions."""

from __future__ import annotations

import numpy as np
import xgboost as xgb

from propensity.modeling.trees import (
    booster_from_bytes,
    plain_matrix,
    tree_contributions,
    tree_margin,
)


def _booster(x: np.ndarray, label_column: int, rounds: int) -> xgb.Booster:
    """A small binary booster on `x` (NaN where missing), loaded back as the service loads
    one."""
    rng = np.random.default_rng(label_column)
    y = (np.nan_to_num(x[:, label_column]) + rng.normal(size=len(x)) > 0).astype(float)
    trained = xgb.train(
        {"objective": "binary:logistic", "max_depth": 3, "nthread": 1},
        plain_matrix(x, 1, label=y),
        num_boost_round=rounds,
    )
    return booster_from_bytes(bytes(trained.save_raw()), 1)


def test_in_place_margin_is_the_dmatrix_margin_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 6)) * rng.choice([0.0, 1.0, 50.0], size=(400, 6))
    x[rng.random(x.shape) < 0.2] = np.nan
    booster = _booster(x, 0, 30)
    through_matrix = np.asarray(
        booster.predict(plain_matrix(x, 1), output_margin=True), dtype=np.float64
    )
    assert np.array_equal(tree_margin(booster, x), through_matrix)
    one_by_one = np.concatenate([tree_margin(booster, x[i : i + 1]) for i in range(50)])
    assert np.array_equal(one_by_one, through_matrix[:50])


def test_a_shared_dmatrix_gives_the_same_margin_and_contributions() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(200, 4))
    x[rng.random(x.shape) < 0.2] = np.nan
    booster = _booster(x, 1, 20)
    for row in range(5):
        one = x[row : row + 1]
        shared = plain_matrix(one, 1)
        assert np.array_equal(tree_margin(booster, one, shared), tree_margin(booster, one))
        assert np.array_equal(
            tree_contributions(booster, one, 1, shared), tree_contributions(booster, one, 1)
        )
