"""Selection, early stopping, calibration and the threshold never see the test rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from propensity.modeling import BinaryModel, FeatureSpec, infer_feature_specs, train_binary
from propensity.modeling.splits import holdout_split

from .conftest import mixed_data


def _same_model(a: BinaryModel, b: BinaryModel, frame: pd.DataFrame) -> None:
    assert a.selection == b.selection
    assert a.threshold == b.threshold
    assert a.calibrator == b.calibrator
    assert a.hyperparameters == b.hyperparameters
    np.testing.assert_array_equal(a.predict_proba(frame), b.predict_proba(frame))


def test_time_split_test_rows_cannot_change_the_model() -> None:
    frame, labels = mixed_data(900, seed=11)
    specs = infer_feature_specs(frame)
    times = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(900), unit="h"))
    base = train_binary(frame=frame, labels=labels, features=specs, times=times, seed=2)

    split = holdout_split(n_rows=900, strata=labels, times_ns=None, test_fraction=0.2, seed=2)
    newest = np.arange(900 - len(split.test), 900)  # the time split's test rows
    scrambled_frame = frame.copy()
    scrambled_labels = labels.copy()
    rng = np.random.default_rng(0)
    scrambled_labels[newest] = rng.integers(0, 2, len(newest))
    scrambled_frame.loc[newest, "usage"] = 1e9
    scrambled_frame.loc[newest, "plan"] = "never-seen-plan"
    other = train_binary(
        frame=scrambled_frame, labels=scrambled_labels, features=specs, times=times, seed=2
    )
    _same_model(base, other, frame.iloc[:100])
    assert base.metrics != other.metrics  # the test rows are what the metrics measure
    assert base.training["split"] == "time"
    assert base.training["test_time_range"]["start"] > base.training["time_range"]["start"]
    assert base.selection["development_rows"] == 900 - len(newest)


def test_stratified_split_test_features_cannot_change_the_model(
    mixed: tuple[pd.DataFrame, np.ndarray, list[FeatureSpec]],
    mixed_models: dict[str, BinaryModel],
) -> None:
    frame, labels, specs = mixed
    base = mixed_models["auto"]
    split = holdout_split(
        n_rows=len(frame), strata=labels, times_ns=None, test_fraction=0.2, seed=3
    )
    assert base.training["test_rows"] == len(split.test)
    poisoned = frame.copy()
    poisoned.loc[split.test, "tickets"] = -500.0
    poisoned.loc[split.test, "region"] = "atlantis"
    other = train_binary(frame=poisoned, labels=labels, features=specs, seed=3)
    _same_model(base, other, frame)
    assert base.metrics["roc_auc"] != other.metrics["roc_auc"]


def test_selection_records_candidates_and_reason(mixed_models: dict[str, BinaryModel]) -> None:
    selection = mixed_models["auto"].selection
    assert selection["chosen"] in {"xgboost", "catboost", "logistic", "blend"}
    assert set(selection["candidates"]) == {"xgboost", "catboost", "logistic", "blend"}
    assert selection["criterion"] == "log-loss"
    assert selection["chosen"] in selection["reason"]
    assert "inner validation" in selection["evaluated_on"]
    best_single = min(selection["candidates"][name] for name in ("xgboost", "catboost", "logistic"))
    if selection["chosen"] == "blend":
        assert selection["candidates"]["blend"] <= best_single * (1 - 0.002)
    else:
        assert selection["candidates"][selection["chosen"]] == best_single
    assert mixed_models["xgboost"].selection["reason"].startswith("Chose xgboost")
