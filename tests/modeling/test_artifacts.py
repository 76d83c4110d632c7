"""Artifacts: one bytes blob, no pickle, identical predictions after loading, stable hash."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from propensity.errors import InvalidInput
from propensity.modeling import BinaryModel, FeatureSpec, SurvivalModel, load_model, train_binary


@pytest.mark.parametrize("family", ["xgboost", "catboost", "logistic", "blend"])
def test_round_trip_gives_identical_predictions_and_hash(
    family: str,
    mixed: tuple[pd.DataFrame, np.ndarray, list[FeatureSpec]],
    mixed_models: dict[str, BinaryModel],
) -> None:
    frame, _, _ = mixed
    model = mixed_models[family]
    blob = model.to_bytes()
    loaded = BinaryModel.from_bytes(blob)
    assert loaded.content_hash == model.content_hash
    assert len(model.content_hash) == 64
    assert loaded.to_bytes() == blob
    np.testing.assert_array_equal(loaded.predict_proba(frame), model.predict_proba(frame))
    np.testing.assert_array_equal(
        loaded.explain(frame).contributions, model.explain(frame).contributions
    )
    np.testing.assert_array_equal(loaded.confidence(frame), model.confidence(frame))
    assert loaded.threshold == model.threshold
    assert loaded.features == model.features
    assert loaded.selection == json.loads(json.dumps(model.selection))
    assert isinstance(load_model(blob), BinaryModel)


def test_artifact_is_json_plus_native_booster(mixed_models: dict[str, BinaryModel]) -> None:
    blend = mixed_models["blend"]
    blob = blend.to_bytes()
    expected = ["manifest.json"]
    if blend.engine.tree_weight > 0:
        expected.append("booster.ubj")
    if blend.engine.catboost_weight > 0:
        expected.append("catboost.cbm")
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        assert sorted(archive.namelist()) == sorted(expected)
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["kind"] == "binary"
    assert manifest["task"]["calibrator"]["method"] in {"isotonic", "sigmoid"}
    assert manifest["linear"]["coef"]
    with zipfile.ZipFile(io.BytesIO(mixed_models["logistic"].to_bytes())) as archive:
        assert archive.namelist() == ["manifest.json"]
    with zipfile.ZipFile(io.BytesIO(mixed_models["catboost"].to_bytes())) as archive:
        assert sorted(archive.namelist()) == ["catboost.cbm", "manifest.json"]
        assert json.loads(archive.read("manifest.json"))["catboost_weight"] == 1.0


def test_wrong_or_broken_artifacts_are_rejected(mixed_models: dict[str, BinaryModel]) -> None:
    with pytest.raises(InvalidInput):
        BinaryModel.from_bytes(b"not a model")
    with pytest.raises(InvalidInput, match="binary model, not a survival"):
        SurvivalModel.from_bytes(mixed_models["auto"].to_bytes())


def test_same_seed_same_probabilities(
    mixed: tuple[pd.DataFrame, np.ndarray, list[FeatureSpec]],
    mixed_models: dict[str, BinaryModel],
) -> None:
    frame, labels, specs = mixed
    again = train_binary(frame=frame, labels=labels, features=specs, seed=3)
    np.testing.assert_array_equal(
        again.predict_proba(frame), mixed_models["auto"].predict_proba(frame)
    )
    assert again.selection == mixed_models["auto"].selection
