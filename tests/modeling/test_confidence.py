"""Confidence is honest: never constant, lower for unfamiliar inputs and for missing values."""

from __future__ import annotations

import numpy as np
import pandas as pd

from propensity.modeling import BinaryModel, FeatureSpec


def test_confidence_drops_out_of_distribution_and_with_missing_values(
    mixed: tuple[pd.DataFrame, np.ndarray, list[FeatureSpec]],
    mixed_models: dict[str, BinaryModel],
) -> None:
    frame, _, _ = mixed
    model = mixed_models["auto"]
    typical = frame.dropna().head(200).reset_index(drop=True)
    base = model.confidence(typical)
    assert np.all((base >= 0) & (base <= model.quality))
    assert np.ptp(model.confidence(frame)) > 0  # never a constant

    far = typical.copy()
    far["usage"] = 1e6
    far["tickets"] = 400.0
    assert np.all(model.confidence(far) < base)

    sparse = typical.copy()
    sparse[["usage", "tickets", "plan", "autopay"]] = None
    assert np.all(model.confidence(sparse) < base)

    unseen = typical.copy()
    unseen["plan"] = "platinum"
    assert np.all(model.confidence(unseen) < base)
    # More missing inputs, less confidence.
    fewer = typical.copy()
    fewer["usage"] = None
    assert np.all(model.confidence(sparse) < model.confidence(fewer))


def test_quality_is_the_held_out_skill(mixed_models: dict[str, BinaryModel]) -> None:
    model = mixed_models["auto"]
    auc = model.metrics["roc_auc"]
    assert isinstance(auc, float)
    assert model.quality == 2 * auc - 1
