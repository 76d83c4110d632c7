"""The real Telco file, one stratified split: the fast version of the benchmark."""

from __future__ import annotations

import numpy as np
import pandas as pd

from propensity.modeling import infer_feature_specs, train_binary

REQUIRED_STAGES = ["preprocessing", "xgboost", "logistic", "blend", "calibration", "evaluation"]


def test_telco_quality_on_a_held_out_split(telco: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, labels = telco
    progress: list[tuple[str, float]] = []
    model = train_binary(
        frame=frame,
        labels=labels,
        features=infer_feature_specs(frame),
        seed=0,
        progress=lambda stage, fraction: progress.append((stage, fraction)),
    )
    metrics = model.metrics
    assert metrics["evaluated_on"] == "held-out test split (stratified)"
    assert metrics["rows"] == 1409
    assert isinstance(metrics["roc_auc"], float) and metrics["roc_auc"] >= 0.83
    assert isinstance(metrics["ece"], float) and metrics["ece"] <= 0.03
    for key in ("pr_auc", "accuracy", "precision", "recall", "f1", "log_loss", "brier"):
        assert isinstance(metrics[key], float)
    assert model.training["rows"] == 7043
    assert model.training["positives"] == 1869
    assert model.training["duration_seconds"] < 30

    stages = [stage for stage, _ in progress]
    positions = [stages.index(stage) for stage in REQUIRED_STAGES]
    assert positions == sorted(positions)
    fractions = [fraction for _, fraction in progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    # Tenure and contract drive churn in this data set.
    assert {"tenure", "contract"} & set(list(model.importance)[:4])
