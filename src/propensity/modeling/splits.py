"""Which rows train, which select and calibrate, which only measure.

The held-out test split is cut first and only its complement (the development rows) is passed on:
selection, early stopping, calibration and the threshold see development rows alone, so the test
metrics are an honest estimate. Both functions are deterministic in their inputs and the seed,
which is what lets a test recompute the split and prove the test rows never mattered."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from propensity.errors import InvalidInput

DEFAULT_TEST_FRACTION = 0.2
DEFAULT_INNER_FOLDS = 5


@dataclass(frozen=True, kw_only=True)
class HoldoutSplit:
    development: np.ndarray  # row indices, ascending
    test: np.ndarray
    method: str  # "time" (newest rows are the test), "stratified", "random" or "none"


def holdout_split(
    *,
    n_rows: int,
    strata: np.ndarray | None,
    times_ns: np.ndarray | None,
    test_fraction: float,
    seed: int,
) -> HoldoutSplit:
    """Newest rows are the test when times are known (the model is judged on the future, as it
    will be used), otherwise a stratified random split."""
    everything = np.arange(n_rows)
    n_test = int(np.ceil(test_fraction * n_rows))
    if n_test == 0:
        return HoldoutSplit(development=everything, test=everything[:0], method="none")
    if times_ns is not None:
        order = np.argsort(times_ns, kind="stable")
        return HoldoutSplit(
            development=np.sort(order[: n_rows - n_test]),
            test=np.sort(order[n_rows - n_test :]),
            method="time",
        )
    development, test = train_test_split(
        everything, test_size=n_test, random_state=seed, stratify=strata
    )
    return HoldoutSplit(
        development=np.sort(development),
        test=np.sort(test),
        method="stratified" if strata is not None else "random",
    )


def inner_folds(
    *,
    n_rows: int,
    strata: np.ndarray | None,
    times_ns: np.ndarray | None,
    n_folds: int,
    seed: int,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cross-fitting folds over the development rows (indices relative to them). With times the
    folds are contiguous time blocks, so rows from one period are never split between training
    and validation; without, stratified shuffled folds."""
    if n_folds < 2:
        raise InvalidInput("Cross-fitting needs at least 2 inner folds.")
    rows = np.arange(n_rows)
    if times_ns is not None:
        order = np.argsort(times_ns, kind="stable")
        blocks = np.array_split(order, n_folds)
        return [
            (np.sort(np.concatenate([b for j, b in enumerate(blocks) if j != i])), np.sort(block))
            for i, block in enumerate(blocks)
        ]
    splitter = (
        StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
        if strata is not None
        else KFold(n_splits=n_folds, shuffle=True, random_state=seed)
    )
    return [(train, valid) for train, valid in splitter.split(rows, strata)]
