"""ROC and reliability points: the same rows and bins as the stored ROC-AUC and ECE."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import auc, roc_auc_score

from propensity.modeling import BinaryModel
from propensity.modeling.curves import binary_curves, ece_of, reliability_bins, roc_points
from propensity.modeling.metrics import expected_calibration_error


def test_roc_points_span_the_unit_square_and_keep_the_area() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(5000) < 0.3).astype(float)
    probability = np.clip(0.3 + 0.25 * (y - 0.3) + rng.normal(0, 0.2, len(y)), 0, 1)
    points = roc_points(probability, y, max_points=101)
    assert len(points) <= 101
    assert (points[0]["fpr"], points[0]["tpr"]) == (0.0, 0.0)
    assert (points[-1]["fpr"], points[-1]["tpr"]) == (1.0, 1.0)
    fpr = [p["fpr"] for p in points]
    assert fpr == sorted(fpr)
    assert all(0.0 <= p["threshold"] <= 1.0 for p in points)
    thinned = auc(fpr, [p["tpr"] for p in points])
    assert thinned == pytest.approx(roc_auc_score(y, probability), abs=0.01)


def test_no_curve_without_both_outcomes() -> None:
    assert roc_points(np.array([0.2, 0.7]), np.array([1.0, 1.0])) == []


def test_reliability_bins_give_back_the_stored_ece() -> None:
    rng = np.random.default_rng(1)
    probability = rng.random(3000)
    y = (rng.random(3000) < probability**1.3).astype(float)
    bins = reliability_bins(probability, y)
    assert sum(b["rows"] for b in bins) == 3000
    assert all(b["low"] <= b["predicted"] <= b["high"] for b in bins)
    assert ece_of(bins) == pytest.approx(expected_calibration_error(probability, y), abs=1e-3)
    assert ece_of([]) is None


def test_a_trained_binary_model_keeps_its_held_out_curves(
    mixed_models: dict[str, BinaryModel],
) -> None:
    model = mixed_models["auto"]
    curves = model.training["curves"]
    assert curves["rows"] == model.metrics["rows"] == model.training["test_rows"]
    assert curves["evaluated_on"] == model.metrics["evaluated_on"]
    assert curves["roc_auc"] == model.metrics["roc_auc"]
    assert ece_of(curves["reliability"]) == pytest.approx(model.metrics["ece"], abs=1e-3)
    assert curves["roc"][0]["fpr"] == 0.0 and curves["roc"][-1]["tpr"] == 1.0
    # Stored with the model: it survives the artifact round trip.
    again = BinaryModel.from_bytes(model.to_bytes())
    assert again.training["curves"] == curves


def test_binary_curves_describe_their_rows() -> None:
    y = np.array([0.0, 1.0, 0.0, 1.0])
    drawn = binary_curves(np.array([0.1, 0.8, 0.3, 0.6]), y, evaluated_on="four rows")
    assert drawn["rows"] == 4 and drawn["positives"] == 2 and drawn["roc_auc"] == 1.0
