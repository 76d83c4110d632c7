"""Any tabular input: wide tables, rare positives, every column kind, missing values, unseen
categories and absent columns at scoring time."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from propensity.errors import InvalidInput
from propensity.modeling import (
    BinaryModel,
    FeatureGroup,
    FeatureKind,
    FeatureSpec,
    infer_feature_specs,
    train_binary,
)

from .conftest import sigmoid


@pytest.fixture(scope="module")
def wide() -> tuple[pd.DataFrame, np.ndarray, BinaryModel]:
    """1,600 rows, 124 columns, about 5% positives."""
    rng = np.random.default_rng(7)
    n = 1600
    columns: dict[str, object] = {f"noise_{i}": rng.normal(size=n) for i in range(110)}
    columns.update({f"cat_{i}": rng.choice(list("abcdefg"), n) for i in range(8)})
    columns["signal"] = rng.normal(size=n)
    columns["segment"] = rng.choice(["smb", "mid", "ent"], n)
    columns["active"] = rng.random(n) < 0.5
    columns["trial"] = rng.choice(["yes", "no"], n)
    columns["last_seen"] = pd.Timestamp("2024-05-01") - pd.to_timedelta(
        rng.integers(0, 365, n), unit="D"
    )
    columns["notes_id"] = [f"n{i}" for i in range(n)]  # identifier: must be skipped
    frame = pd.DataFrame(columns)
    for name in ("signal", "noise_0", "segment", "last_seen"):
        frame.loc[rng.random(n) < 0.15, name] = None
    logit = (
        -4.6
        + 1.6 * np.nan_to_num(frame["signal"].to_numpy(dtype=float))
        + np.where(frame["segment"] == "ent", 1.2, 0.0)
        + 0.8 * frame["active"].to_numpy(dtype=float)
    )
    labels = (rng.random(n) < sigmoid(logit)).astype(float)
    specs = infer_feature_specs(frame)
    model = train_binary(frame=frame, labels=labels, features=specs, seed=1)
    return frame, labels, model


def test_wide_table_with_rare_positives_trains(
    wide: tuple[pd.DataFrame, np.ndarray, BinaryModel],
) -> None:
    _, labels, model = wide
    assert 0.03 < labels.mean() < 0.08
    assert len(model.features) > 100
    assert "notes_id" not in {f.name for f in model.features}
    kinds = {f.name: f.kind for f in model.features}
    assert kinds["active"] is FeatureKind.BOOLEAN
    assert kinds["trial"] is FeatureKind.BOOLEAN
    assert kinds["last_seen"] is FeatureKind.DATETIME
    assert kinds["segment"] is FeatureKind.CATEGORICAL
    assert model.metrics["roc_auc"] is not None and model.metrics["roc_auc"] > 0.75
    assert model.training["positives"] == int(labels.sum())
    top = list(model.importance)[:3]
    assert "signal" in top


def test_unseen_categories_and_missing_columns_at_scoring(
    wide: tuple[pd.DataFrame, np.ndarray, BinaryModel],
) -> None:
    frame, _, model = wide
    scoring = frame.head(50).drop(columns=["segment", "noise_5", "last_seen"])
    scoring["cat_0"] = "brand-new-category"
    scoring["active"] = ["maybe"] * 50  # unreadable boolean = missing
    probability = model.predict_proba(scoring)
    assert probability.shape == (50,)
    assert np.all((probability > 0) & (probability < 1))
    explanation = model.explain(scoring)
    rebuilt = explanation.bias + explanation.contributions.sum(axis=1)
    assert np.max(np.abs(rebuilt - explanation.raw)) < 1e-6
    assert np.all(model.confidence(scoring) < model.confidence(frame.head(50)))


def test_datetime_strings_and_time_aware_columns_score_consistently(
    wide: tuple[pd.DataFrame, np.ndarray, BinaryModel],
) -> None:
    frame, _, model = wide
    as_text = frame.head(20).copy()
    as_text["last_seen"] = as_text["last_seen"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    np.testing.assert_allclose(
        model.predict_proba(as_text), model.predict_proba(frame.head(20)), atol=1e-12
    )


def test_feature_statistics_are_json_and_complete(
    wide: tuple[pd.DataFrame, np.ndarray, BinaryModel],
) -> None:
    _, _, model = wide
    stats = json.loads(json.dumps(model.feature_stats, allow_nan=False))
    signal = stats["signal"]
    assert signal["kind"] == "numeric" and signal["group"] == "demographic"
    assert signal["missing_rate"] == pytest.approx(0.15, abs=0.03)
    for key in ("min", "max", "mean", "std", "skew", "p1", "p99"):
        assert isinstance(signal[key], float)
    assert len(signal["bins"]["edges"]) == 11
    assert sum(signal["bins"]["proportions"]) == pytest.approx(1.0)
    segment = stats["segment"]
    assert set(segment["frequencies"]) == {"smb", "mid", "ent"}
    assert sum(segment["bins"]["proportions"]) == pytest.approx(1.0)
    assert stats["active"]["true_rate"] == pytest.approx(0.5, abs=0.05)
    assert stats["last_seen"]["unit"] == "days before reference"
    assert stats["last_seen"]["reference"].startswith("2024-05-01")
    assert sum(model.importance.values()) == pytest.approx(1.0)


def test_many_categories_keep_top_twenty_in_statistics() -> None:
    rng = np.random.default_rng(3)
    n = 600
    frame = pd.DataFrame({"city": [f"city{i}" for i in rng.integers(0, 60, n)]})
    frame["x"] = rng.normal(size=n)
    labels = (rng.random(n) < sigmoid(frame["x"].to_numpy())).astype(float)
    model = train_binary(
        frame=frame, labels=labels, features=infer_feature_specs(frame), family="logistic"
    )
    city = model.feature_stats["city"]
    assert len(city["frequencies"]) == 20
    assert city["other_rate"] > 0
    assert city["distinct"] == 60


def test_bad_inputs_are_invalid_input() -> None:
    frame = pd.DataFrame({"x": np.arange(200.0)})
    spec = FeatureSpec(name="x", kind=FeatureKind.NUMERIC, group=FeatureGroup.BEHAVIORAL)
    labels = np.tile([0.0, 1.0], 100)
    with pytest.raises(InvalidInput, match="0/1"):
        train_binary(frame=frame, labels=np.full(200, 2.0), features=[spec])
    with pytest.raises(InvalidInput, match="0/1"):
        train_binary(frame=frame, labels=np.array(["Yes", "No"] * 100), features=[spec])
    with pytest.raises(InvalidInput, match="lacks declared feature columns: y"):
        train_binary(
            frame=frame,
            labels=labels,
            features=[
                spec,
                FeatureSpec(name="y", kind=FeatureKind.NUMERIC, group=FeatureGroup.BEHAVIORAL),
            ],
        )
    with pytest.raises(InvalidInput, match="unique"):
        train_binary(frame=frame, labels=labels, features=[spec, spec])
    with pytest.raises(InvalidInput, match="rows"):
        train_binary(frame=frame, labels=labels[:150], features=[spec])


def test_infer_feature_specs_kinds() -> None:
    frame = pd.DataFrame(
        {
            "flag01": [0, 1] * 30,
            "yes_no": ["Yes", "No"] * 30,
            "amount_text": [str(v) for v in range(60)],
            "joined": [f"2024-01-{i % 28 + 1:02d}" for i in range(60)],
            "plan": ["a", "b", "c"] * 20,
            "score": np.linspace(0, 1, 60),
            "ident": [f"id-{i}" for i in range(60)],
        }
    )
    specs = {
        s.name: s for s in infer_feature_specs(frame, groups={"score": FeatureGroup.ENGAGEMENT})
    }
    assert specs["flag01"].kind is FeatureKind.BOOLEAN
    assert specs["yes_no"].kind is FeatureKind.BOOLEAN
    assert specs["amount_text"].kind is FeatureKind.NUMERIC
    assert specs["joined"].kind is FeatureKind.DATETIME
    assert specs["joined"].group is FeatureGroup.TEMPORAL
    assert specs["plan"].kind is FeatureKind.CATEGORICAL
    assert specs["score"].group is FeatureGroup.ENGAGEMENT
    assert "ident" not in specs
