"""Regression (health score ahead): beats predicting the mean, explains additively."""

from __future__ import annotations

import numpy as np
import pandas as pd

from propensity.modeling import RegressionModel, infer_feature_specs, load_model, train_regression


def test_regression_beats_the_mean_and_round_trips() -> None:
    rng = np.random.default_rng(9)
    n = 1500
    frame = pd.DataFrame(
        {
            "current_score": rng.uniform(20, 95, n),
            "change_30d": rng.normal(0, 8, n),
            "open_tickets": rng.poisson(1.5, n).astype(float),
            "tier": rng.choice(["gold", "silver", "bronze"], n),
        }
    )
    frame.loc[rng.random(n) < 0.1, "change_30d"] = None
    target = (
        0.8 * frame["current_score"]
        + 0.5 * frame["change_30d"].fillna(0)
        - 3.0 * frame["open_tickets"]
        + np.where(frame["tier"] == "gold", 4.0, 0.0)
        + rng.normal(0, 4, n)
    ).to_numpy()
    model = train_regression(
        frame=frame, targets=target, features=infer_feature_specs(frame), seed=0
    )
    metrics = model.metrics
    assert isinstance(metrics["mae"], float) and isinstance(metrics["baseline_mae"], float)
    assert metrics["mae"] < 0.5 * metrics["baseline_mae"]
    assert isinstance(metrics["rmse"], float) and metrics["rmse"] >= metrics["mae"]
    assert 0.7 < float(metrics["interval_coverage"]) < 0.9  # type: ignore[arg-type]
    assert set(model.selection["candidates"]) == {"xgboost", "ridge", "blend"}
    assert 0 < model.quality <= 1

    explanation = model.explain(frame.head(200))
    rebuilt = explanation.bias + explanation.contributions.sum(axis=1)
    assert np.max(np.abs(rebuilt - explanation.raw)) < 1e-6
    np.testing.assert_allclose(explanation.prediction, model.predict(frame.head(200)))

    loaded = load_model(model.to_bytes())
    assert isinstance(loaded, RegressionModel)
    np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))
