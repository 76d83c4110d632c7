"""`propensity backtest`: train on one file, score another, as a user checks us on their data.

It runs the same modeling pipeline as `propensity train` on a static data set: every
column but the id and the label is a candidate feature (`infer_feature_specs`), and the
model is selected, calibrated and evaluated by `train_binary`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from propensity.crm.coerce import parse_label
from propensity.errors import InvalidInput
from propensity.modeling import BinaryModel, infer_feature_specs, train_binary
from propensity.modeling.metrics import binary_metrics

ID_COLUMN_NAMES = ("id", "customer_id", "lead_id", "external_id", "account_id", "user_id")


@dataclass(frozen=True, kw_only=True)
class BacktestResult:
    model: BinaryModel
    predictions: pd.DataFrame
    id_column: str | None
    test_metrics: dict[str, Any] | None


def find_id_column(frame: pd.DataFrame) -> str | None:
    """A column that names each row: a known id name, or `*_id` with a distinct value per row."""
    lowered = {str(c).lower(): str(c) for c in frame.columns}
    for name in ID_COLUMN_NAMES:
        if name in lowered and frame[lowered[name]].is_unique:
            return lowered[name]
    for column in frame.columns:
        name = str(column)
        if name.lower().endswith("_id") and frame[column].notna().all() and frame[column].is_unique:
            return name
    return None


def labels_of(frame: pd.DataFrame, *, label: str, positive: str | None, which: str) -> np.ndarray:
    if label not in frame.columns:
        raise InvalidInput(
            f"The {which} file has no column '{label}'",
            details={"columns": [str(c) for c in frame.columns][:50]},
        )
    parsed = parse_label(frame[label], positive=positive)
    if parsed.bad.any():
        row = int(np.flatnonzero(parsed.bad)[0]) + 1
        raise InvalidInput(
            f"Row {row} of the {which} file: '{parsed.raw.iloc[row - 1]}' in '{label}' is not "
            "a yes/no value; pass --positive VALUE to name the positive class",
        )
    values = np.array([np.nan if v is None else float(v) for v in parsed.values])
    return values


def run_backtest(
    *,
    train: pd.DataFrame,
    test: pd.DataFrame,
    label: str,
    positive: str | None = None,
    seed: int = 0,
    progress: Callable[[str, float], None] | None = None,
) -> BacktestResult:
    y_train = labels_of(train, label=label, positive=positive, which="training")
    id_column = find_id_column(train)
    excluded = {label, *([id_column] if id_column else [])}
    features = infer_feature_specs(train, exclude=excluded)
    if not features:
        raise InvalidInput("The training file has no usable feature columns besides the label")
    model = train_binary(
        frame=train[[f.name for f in features]],
        labels=y_train,
        features=features,
        seed=seed,
        progress=progress,
        # The test file is the evaluation a backtest exists for: holding out a further 20% of
        # the training file only trains on less (bench/quality_suite.py: +0.0145 ROC-AUC on
        # lending_club without it). The model's own metrics then come from inner validation
        # and say so in `evaluated_on`.
        test_fraction=0.0,
    )
    # Columns the test file lacks are scored as missing, as at serving time.
    probability = model.predict_proba(test)
    predictions = pd.DataFrame({"probability": probability})
    if id_column and id_column in test.columns:
        predictions.insert(0, id_column, test[id_column].to_numpy())
    test_metrics = None
    if label in test.columns:
        y_test = labels_of(test, label=label, positive=positive, which="test")
        known = ~np.isnan(y_test)
        test_metrics = binary_metrics(
            probability[known], y_test[known].astype(int), threshold=model.threshold
        )
    return BacktestResult(
        model=model, predictions=predictions, id_column=id_column, test_metrics=test_metrics
    )
