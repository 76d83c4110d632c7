"""Explanations are exact: bias + contributions == the raw output the prediction comes from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from propensity.modeling import BinaryModel, FeatureGroup, FeatureSpec

FAMILIES = ("xgboost", "catboost", "logistic", "blend")


@pytest.mark.parametrize("family", FAMILIES)
def test_contributions_add_up_to_the_margin(
    family: str,
    mixed: tuple[pd.DataFrame, np.ndarray, list[FeatureSpec]],
    mixed_models: dict[str, BinaryModel],
) -> None:
    frame, _, specs = mixed
    model = mixed_models[family]
    assert model.family == family
    explanation = model.explain(frame)

    assert explanation.contributions.shape == (len(frame), len(specs))
    rebuilt = explanation.bias + explanation.contributions.sum(axis=1)
    assert np.max(np.abs(rebuilt - explanation.raw)) < 1e-6
    # The raw output is the margin the probability comes from, and the groups sum the same way.
    assert np.max(np.abs(explanation.raw - model.margin(frame))) < 1e-9
    grouped = explanation.bias + explanation.group_contributions.sum(axis=1)
    assert np.max(np.abs(grouped - explanation.raw)) < 1e-6
    np.testing.assert_allclose(explanation.prediction, model.predict_proba(frame), atol=1e-12)


@pytest.mark.parametrize("family", FAMILIES)
def test_bias_is_the_expected_value_not_a_fudge(
    family: str,
    mixed: tuple[pd.DataFrame, np.ndarray, list[FeatureSpec]],
    mixed_models: dict[str, BinaryModel],
) -> None:
    """The bias only absorbs float32 rounding of XGBoost: it is constant to 1e-4 over rows."""
    frame, _, _ = mixed
    bias = mixed_models[family].explain(frame).bias
    assert np.ptp(bias) < 1e-4


def test_blend_contributions_are_the_weighted_family_contributions(
    mixed: tuple[pd.DataFrame, np.ndarray, list[FeatureSpec]],
    mixed_models: dict[str, BinaryModel],
) -> None:
    frame, _, _ = mixed
    blend = mixed_models["blend"]
    engine = blend.engine
    w, c, lw = engine.tree_weight, engine.catboost_weight, engine.linear_weight
    assert sum(weight > 0 for weight in (w, c, lw)) >= 2
    assert abs(w + c + lw - 1.0) < 1e-12
    x = engine.matrix(frame)
    # Independently, from each library's own prediction:
    # margin = w * xgboost + c * catboost + (1 - w - c) * linear.
    rebuilt = np.zeros(len(x))
    if w > 0:
        rebuilt += w * engine.booster.predict(xgb.DMatrix(x, missing=np.nan), output_margin=True)
    if c > 0:
        rebuilt += c * engine.catboost_model.predict(x, prediction_type="RawFormulaVal")
    if lw > 0:
        assert engine.linear is not None
        rebuilt += lw * engine.linear.margin(x)
    np.testing.assert_allclose(engine.margin(x), rebuilt, atol=1e-5)


def test_catboost_contributions_are_its_own_shap_values(
    mixed: tuple[pd.DataFrame, np.ndarray, list[FeatureSpec]],
    mixed_models: dict[str, BinaryModel],
) -> None:
    """CatBoost's ShapValues summed per feature over its one-hot columns, nothing else."""
    from catboost import Pool

    frame, _, _ = mixed
    model = mixed_models["catboost"]
    x = model.engine.matrix(frame.head(50))
    shap = model.engine.catboost_model.get_feature_importance(data=Pool(x), type="ShapValues")
    owner = model.engine.preprocessor.column_feature
    expected = np.zeros((len(x), model.engine.preprocessor.n_features))
    np.add.at(expected.T, owner, shap[:, :-1].T)
    explanation = model.explain(frame.head(50))
    np.testing.assert_allclose(explanation.contributions, expected, atol=1e-12)
    np.testing.assert_allclose(explanation.bias, shap[:, -1], atol=1e-9)


def test_linear_contribution_is_coefficient_times_centred_value(
    mixed: tuple[pd.DataFrame, np.ndarray, list[FeatureSpec]],
    mixed_models: dict[str, BinaryModel],
) -> None:
    frame, _, specs = mixed
    model = mixed_models["logistic"]
    linear = model.engine.linear
    assert linear is not None
    explanation = model.explain(frame)
    usage = [s.name for s in specs].index("usage")
    row = 0
    value = frame["usage"].iloc[row]
    assert not np.isnan(value)
    column = model.engine.preprocessor.columns.index("usage")
    clipped = np.clip(value, linear.low[column], linear.high[column])
    expected = linear.coef[column] * (clipped - linear.mean[column]) / linear.scale[column]
    # usage also has a missing indicator; for a present value it contributes coef * (0 - mean).
    indicator = list(linear.indicator).index(column) + len(linear.numeric)
    expected += linear.coef[indicator] * (0 - linear.mean[indicator]) / linear.scale[indicator]
    assert explanation.contributions[row, usage] == pytest.approx(expected, abs=1e-12)
    np.testing.assert_allclose(explanation.bias, linear.intercept, atol=1e-9)


def test_group_sums_and_row_view(
    mixed: tuple[pd.DataFrame, np.ndarray, list[FeatureSpec]],
    mixed_models: dict[str, BinaryModel],
) -> None:
    frame, _, specs = mixed
    explanation = mixed_models["auto"].explain(frame.head(3))
    groups = explanation.group_frame()
    assert list(groups.columns) == [g.value for g in FeatureGroup]
    temporal = [i for i, s in enumerate(specs) if s.group is FeatureGroup.TEMPORAL]
    assert temporal  # the datetime column
    np.testing.assert_allclose(
        groups["temporal"], explanation.contributions[:, temporal].sum(axis=1)
    )
    row = explanation.row(0)
    assert set(row["contributions"]) == {s.name for s in specs}
    magnitudes = [abs(v) for v in row["contributions"].values()]
    assert magnitudes == sorted(magnitudes, reverse=True)
    assert row["bias"] + sum(row["contributions"].values()) == pytest.approx(row["raw"], abs=1e-6)
