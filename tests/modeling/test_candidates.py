"""Issue 16: the CatBoost candidate, three-way blends, the selection criterion, naive baselines,
blank cells and the interval levels of time to event."""

from __future__ import annotations

import numpy as np
import pandas as pd

from propensity.modeling import (
    BinaryModel,
    FeatureKind,
    FeatureSpec,
    SurvivalModel,
    infer_feature_specs,
    train_binary,
    train_regression,
    train_survival,
)
from propensity.modeling.calibration import recalibrated_log_loss
from propensity.modeling.candidates import CATBOOST_MAX_CELLS, catboost_is_candidate
from propensity.modeling.metrics import log_loss
from propensity.modeling.naive import binary_naive, health_trend_naive
from propensity.modeling.selection import select_family


def _loss(y: np.ndarray):  # type: ignore[no-untyped-def]
    return lambda margin: recalibrated_log_loss(margin, y)


def test_three_members_the_best_single_wins_without_a_useful_blend() -> None:
    rng = np.random.default_rng(0)
    truth = rng.normal(size=4000)
    y = (rng.random(4000) < 1 / (1 + np.exp(-2 * truth))).astype(float)
    good = 2 * truth
    selection = select_family(
        tree_oof=good + rng.normal(scale=2.0, size=4000),
        catboost_oof=good,
        linear_oof=good + rng.normal(scale=2.0, size=4000),
        loss=_loss(y),
        criterion="log-loss",
        linear_name="logistic",
        forced="auto",
        extra={},
    )
    assert selection.family == "catboost"
    assert (selection.tree_weight, selection.catboost_weight) == (0.0, 1.0)
    assert set(selection.scores) == {"xgboost", "catboost", "logistic", "blend"}
    assert selection.extra["blend_members"] == ["xgboost", "catboost", "logistic"]
    # 66 weight triples on the 0.1 grid, each recorded.
    assert len(selection.weight_scores) == 66


def test_three_members_with_independent_errors_blend() -> None:
    rng = np.random.default_rng(1)
    truth = rng.normal(size=4000)
    y = (rng.random(4000) < 1 / (1 + np.exp(-2 * truth))).astype(float)
    members = [2 * truth + rng.normal(scale=1.5, size=4000) for _ in range(3)]
    selection = select_family(
        tree_oof=members[0],
        catboost_oof=members[1],
        linear_oof=members[2],
        loss=_loss(y),
        criterion="log-loss",
        linear_name="logistic",
        forced="auto",
        extra={},
    )
    assert selection.family == "blend"
    weights = (selection.tree_weight, selection.catboost_weight)
    assert all(0 < w < 1 for w in weights) and sum(weights) < 1


def test_recalibrated_loss_ignores_scale_but_not_ranking() -> None:
    rng = np.random.default_rng(2)
    margin = rng.normal(size=3000)
    y = (rng.random(3000) < 1 / (1 + np.exp(-margin))).astype(float)
    assert abs(recalibrated_log_loss(margin, y) - recalibrated_log_loss(0.2 * margin, y)) < 1e-9
    assert recalibrated_log_loss(0.2 * margin, y) < log_loss(1 / (1 + np.exp(-0.2 * margin)), y)
    assert recalibrated_log_loss(rng.normal(size=3000), y) > recalibrated_log_loss(margin, y)


def test_catboost_joins_by_size_and_search() -> None:
    assert catboost_is_candidate(rows=1000, columns=50, search="auto")
    assert not catboost_is_candidate(rows=CATBOOST_MAX_CELLS, columns=2, search="auto")
    assert catboost_is_candidate(rows=CATBOOST_MAX_CELLS, columns=2, search="wide")
    assert not catboost_is_candidate(rows=100, columns=5, search="narrow")


def test_narrow_search_leaves_catboost_out(
    mixed: tuple[pd.DataFrame, np.ndarray, list[FeatureSpec]],
) -> None:
    frame, labels, specs = mixed
    model = train_binary(frame=frame, labels=labels, features=specs, seed=3, search="narrow")
    assert set(model.selection["candidates"]) == {"xgboost", "logistic", "blend"}
    assert model.engine.catboost_raw is None


def test_binary_metrics_carry_the_margin_over_the_base_rate(
    mixed_models: dict[str, BinaryModel],
) -> None:
    metrics = mixed_models["auto"].metrics
    for key in ("naive_base_rate", "naive_brier", "naive_log_loss", "brier_skill"):
        assert isinstance(metrics[key], float)
    brier, naive = metrics["brier"], metrics["naive_brier"]
    assert isinstance(brier, float) and isinstance(naive, float)
    assert metrics["brier_skill"] == 1 - brier / naive
    assert 0 < float(metrics["brier_skill"]) < 1  # type: ignore[arg-type]


def test_naive_brier_is_the_base_rate_forecast() -> None:
    y = np.array([1.0, 0.0, 0.0, 0.0])
    out = binary_naive(np.array([0.9, 0.1, 0.1, 0.1]), y, base_rate=0.25)
    assert out["naive_brier"] == (0.75**2 + 3 * 0.25**2) / 4
    assert out["brier_skill"] == 1 - 0.01 / out["naive_brier"]  # type: ignore[operator]


def test_health_trend_is_judged_against_the_last_score_and_the_trend() -> None:
    rng = np.random.default_rng(4)
    n = 1500
    current = rng.uniform(30, 90, n)
    slope = rng.normal(0, 4, n)
    usage = rng.normal(size=n)
    frame = pd.DataFrame(
        {"health_score_current": current, "health_slope_90d": slope, "usage": usage}
    )
    target = current + 0.5 * slope + 3 * usage + rng.normal(0, 2, n)
    model = train_regression(
        frame=frame,
        targets=target,
        features=infer_feature_specs(frame),
        seed=0,
        naive=health_trend_naive(frame, current),
    )
    metrics = model.metrics
    assert float(metrics["naive_last_score_mae"]) > float(metrics["mae"])  # type: ignore[arg-type]
    assert float(metrics["mae_skill_vs_last_score"]) > 0  # type: ignore[arg-type]
    assert float(metrics["mae_skill_vs_linear_trend"]) > 0  # type: ignore[arg-type]


def test_blank_cells_do_not_make_a_number_categorical() -> None:
    values = ["129.0", "", "200", " ", "131.0"] * 20 + [""] * 10
    specs = infer_feature_specs(pd.DataFrame({"income": values}))
    assert specs[0].kind is FeatureKind.NUMERIC


def test_survival_levels_are_fitted_and_survive_the_round_trip() -> None:
    rng = np.random.default_rng(6)
    n = 2000
    frame = pd.DataFrame({"x": rng.normal(size=n)})
    # Heavy-tailed log-time noise: a normal interval at 0.1 / 0.9 is too narrow in the tails.
    event_time = np.exp(3 + 0.5 * frame["x"].to_numpy() + rng.standard_t(2, size=n) * 0.4)
    censor = rng.uniform(5, 400, n)
    model = train_survival(
        frame=frame,
        durations_days=np.minimum(event_time, censor),
        observed=event_time <= censor,
        features=infer_feature_specs(frame),
        seed=0,
    )
    low_level, high_level = model.levels
    assert 0 < low_level < 0.5 < high_level < 1
    assert model.selection["interval_calibration"]["levels"] == [low_level, high_level]
    coverage = model.metrics["interval_coverage_censoring_aware"]
    assert isinstance(coverage, float) and 0.7 < coverage < 0.9
    low, high = model.predict_interval(frame)
    assert 0.72 < np.mean((event_time >= low) & (event_time <= high)) < 0.88
    loaded = SurvivalModel.from_bytes(model.to_bytes())
    assert loaded.levels == model.levels
    np.testing.assert_array_equal(loaded.predict_interval(frame)[1], high)
