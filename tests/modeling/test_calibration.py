"""Calibrated probabilities mean what they say; the threshold maximises F1 as documented."""

from __future__ import annotations

import numpy as np
import pandas as pd

from propensity.modeling import FeatureGroup, FeatureKind, FeatureSpec, train_binary
from propensity.modeling.calibration import (
    best_f1_threshold,
    calibration_method_for,
    fit_calibrator,
)
from propensity.modeling.metrics import expected_calibration_error

from .conftest import sigmoid

SPECS = [
    FeatureSpec(name=f"x{i}", kind=FeatureKind.NUMERIC, group=FeatureGroup.BEHAVIORAL)
    for i in range(4)
]


def known_probability_data(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    probability = sigmoid(-1.0 + 1.2 * x[:, 0] - 0.8 * x[:, 1] + 0.5 * x[:, 2] * x[:, 3])
    labels = (rng.random(n) < probability).astype(float)
    return pd.DataFrame(x, columns=[s.name for s in SPECS]), labels, probability


def test_model_probabilities_match_known_probabilities() -> None:
    frame, labels, _ = known_probability_data(5000, seed=0)
    model = train_binary(frame=frame, labels=labels, features=SPECS, seed=0)
    fresh, fresh_labels, truth = known_probability_data(20000, seed=1)
    predicted = model.predict_proba(fresh)
    # With 20,000 fresh rows the ECE of a perfectly calibrated model is about 0.005.
    assert expected_calibration_error(predicted, fresh_labels) < 0.02
    # Estimation error (4,000 training rows, an interaction term), not calibration error.
    assert np.mean(np.abs(predicted - truth)) < 0.07
    assert model.selection["calibration"]["method"] == "isotonic"  # 4,000 calibration rows


def test_calibrator_repairs_an_overconfident_margin() -> None:
    rng = np.random.default_rng(2)
    true_margin = rng.normal(-0.5, 1.5, 8000)
    labels = (rng.random(8000) < sigmoid(true_margin)).astype(float)
    overconfident = 3.0 * true_margin + 1.0
    raw_ece = expected_calibration_error(sigmoid(overconfident[4000:]), labels[4000:])
    for method in ("sigmoid", "isotonic"):
        calibrator = fit_calibrator(overconfident[:4000], labels[:4000], method)
        calibrated = calibrator(overconfident[4000:])
        assert expected_calibration_error(calibrated, labels[4000:]) < 0.03 < raw_ece
        assert np.all(np.diff(calibrator(np.sort(overconfident))) >= 0)  # monotone
        assert calibrated.min() > 0 and calibrated.max() < 1  # never a certain 0% or 100%


def test_calibration_method_follows_the_size_rule() -> None:
    assert calibration_method_for(n_rows=999, n_minority=400) == "sigmoid"
    assert calibration_method_for(n_rows=5000, n_minority=99) == "sigmoid"
    assert calibration_method_for(n_rows=1000, n_minority=100) == "isotonic"


def test_threshold_maximises_f1() -> None:
    rng = np.random.default_rng(4)
    probability = rng.random(3000) ** 2
    labels = (rng.random(3000) < probability).astype(float)
    threshold, f1 = best_f1_threshold(probability, labels)
    assert 0 < threshold < 1

    def f1_at(t: float) -> float:
        flagged = probability >= t
        tp = float(np.sum(flagged & (labels == 1)))
        return 2 * tp / float(flagged.sum() + labels.sum())

    assert f1 == f1_at(threshold)
    assert all(f1_at(t) <= f1 + 1e-12 for t in np.unique(probability))


def test_model_threshold_is_documented(mixed_models: dict[str, object]) -> None:
    model = mixed_models["auto"]
    assert 0 < model.threshold < 1  # type: ignore[attr-defined]
    assert "F1" in model.selection["threshold"]["criterion"]  # type: ignore[attr-defined]
    assert model.metrics["threshold"] == model.threshold  # type: ignore[attr-defined]
