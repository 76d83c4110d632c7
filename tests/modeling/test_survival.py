"""Time to event with censoring: medians track the truth, intervals cover about 80%."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import pearsonr

from propensity.modeling import SurvivalModel, infer_feature_specs, load_model, train_survival


def test_aft_recovers_known_medians_with_censoring() -> None:
    rng = np.random.default_rng(5)
    n = 2500
    frame = pd.DataFrame(
        {
            "engagement": rng.normal(size=n),
            "deal_size": rng.lognormal(8, 1, n),
            "source": rng.choice(["web", "referral", "event"], n),
            "noise": rng.normal(size=n),
        }
    )
    location = (
        np.log(40)
        - 0.5 * frame["engagement"]
        + 0.25 * (np.log(frame["deal_size"]) - 8)
        + np.where(frame["source"] == "referral", -0.4, 0.0)
    ).to_numpy()
    event_time = np.exp(location + 0.45 * rng.normal(size=n))
    censor_time = rng.uniform(10, 150, n)
    observed = event_time <= censor_time
    durations = np.minimum(event_time, censor_time)
    assert 0.2 < 1 - observed.mean() < 0.5  # substantial censoring

    stages: list[str] = []
    model = train_survival(
        frame=frame,
        durations_days=durations,
        observed=observed,
        features=infer_feature_specs(frame),
        seed=0,
        progress=lambda stage, _: stages.append(stage),
    )
    median = model.predict_median(frame)
    assert pearsonr(np.log(median), location)[0] > 0.9
    assert model.metrics["c_index"] is not None and model.metrics["c_index"] > 0.75
    coverage = model.metrics["interval_coverage"]
    assert isinstance(coverage, float) and 0.7 < coverage < 0.9
    low, high = model.predict_interval(frame)
    assert np.all(low < median) and np.all(median < high)
    # Against the uncensored truth (which the model never saw), coverage is near 80% too.
    assert 0.72 < np.mean((event_time >= low) & (event_time <= high)) < 0.88
    assert abs(model.scale - 0.45) < 0.1

    explanation = model.explain(frame.head(100))
    rebuilt = explanation.bias + explanation.contributions.sum(axis=1)
    assert np.max(np.abs(rebuilt - explanation.raw)) < 1e-6
    np.testing.assert_allclose(explanation.prediction, median[:100])
    assert {"preprocessing", "xgboost", "calibration", "evaluation"} <= set(stages)
    within = model.probability_within(frame.head(5), 40.0)
    assert np.all((within > 0) & (within < 1))

    loaded = load_model(model.to_bytes())
    assert isinstance(loaded, SurvivalModel)
    np.testing.assert_array_equal(loaded.predict_median(frame), median)
