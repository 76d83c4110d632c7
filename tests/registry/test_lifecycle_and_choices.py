"""Training choices (algorithms per type, hyperparameter ranges) and the status rules."""

from __future__ import annotations

import pytest

from propensity.errors import InvalidInput
from propensity.registry.lifecycle import TRANSITIONS
from propensity.training.hyperparameters import TREE_RANGES, parse_choices


def test_ranges_map_to_xgboost_parameters_and_bounds_are_inclusive() -> None:
    choices = parse_choices(
        prediction_type="CHURN",
        algorithm="blend",
        hyperparameters={"maxDepth": 10, "learningRate": 0.005, "subsample": 1, "C": 100},
        validation_split=0.1,
    )
    assert choices.family == "blend" and choices.linear_strength == 100.0
    assert choices.tree_overrides == {"max_depth": 10, "eta": 0.005, "subsample": 1.0}
    assert choices.test_fraction == 0.1
    assert choices.requested["api"]["algorithm"] == "blend"


@pytest.mark.parametrize(
    ("prediction_type", "algorithm", "hyperparameters", "field"),
    [
        ("CONVERSION", "neural_network", {}, "algorithm"),
        ("HEALTH_TREND", "logistic_regression", {}, "algorithm"),
        ("TIME_TO_CLOSE", "blend", {}, "algorithm"),
        ("CONVERSION", "xgboost", {"maxDepth": 0}, "hyperparameters.maxDepth"),
        ("CONVERSION", "xgboost", {"maxDepth": 2.5}, "hyperparameters.maxDepth"),
        ("CONVERSION", "xgboost", {"colsampleBytree": 0.2}, "hyperparameters.colsampleBytree"),
        ("CONVERSION", "xgboost", {"regLambda": True}, "hyperparameters.regLambda"),
        ("CONVERSION", "logistic_regression", {"maxDepth": 3}, "hyperparameters"),
        ("HEALTH_TREND", "ridge", {"alpha": 0}, "hyperparameters.alpha"),
        ("HEALTH_TREND", "ridge", {"C": 1}, "hyperparameters"),
    ],
)
def test_refusals_name_the_field(
    prediction_type: str, algorithm: str, hyperparameters: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_choices(
            prediction_type=prediction_type,
            algorithm=algorithm,
            hyperparameters=hyperparameters,
            validation_split=None,
        )
    assert caught.value.code == "VALIDATION_ERROR"
    assert caught.value.details["field"] == field


def test_defaults_change_nothing_and_every_range_is_documented() -> None:
    choices = parse_choices(
        prediction_type="CONVERSION", algorithm=None, hyperparameters=None, validation_split=None
    )
    assert choices.family == "auto" and choices.tree_overrides == {}
    assert choices.linear_strength is None and choices.test_fraction is None
    assert set(TREE_RANGES) == {
        "maxDepth",
        "learningRate",
        "minChildWeight",
        "subsample",
        "colsampleBytree",
        "regLambda",
    }
    # Retired is final and a training version changes only when its job ends.
    assert TRANSITIONS["retired"] == () and TRANSITIONS["training"] == ()
    assert "retired" not in TRANSITIONS["active"]
