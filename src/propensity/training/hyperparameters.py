"""What a caller may choose about training: the algorithm per prediction type, hyperparameters
within ranges, and the held-out fraction.

Ranges are wide enough for real tuning and narrow enough that no choice can hang a shared
2-core worker (depth above 10 or a learning rate under 0.005 multiply the boosting time) or
produce a degenerate model (subsampling under 30% of rows or columns)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from propensity.errors import InvalidInput
from propensity.vocabulary import PredictionType

# Per trainable type: the algorithm names the API accepts -> the trainer's family.
ALGORITHMS: dict[str, dict[str, str]] = {
    PredictionType.CONVERSION.value: {
        "auto": "auto",
        "xgboost": "xgboost",
        "logistic_regression": "logistic",
        "blend": "blend",
    },
    PredictionType.CHURN.value: {
        "auto": "auto",
        "xgboost": "xgboost",
        "logistic_regression": "logistic",
        "blend": "blend",
    },
    PredictionType.HEALTH_TREND.value: {
        "auto": "auto",
        "xgboost": "xgboost",
        "ridge": "ridge",
        "blend": "blend",
    },
    # Survival: XGBoost AFT is the one family here that handles censored leads.
    PredictionType.TIME_TO_CLOSE.value: {"auto": "xgboost", "xgboost": "xgboost"},
}

# API name -> (XGBoost parameter, low, high), bounds inclusive.
TREE_RANGES: dict[str, tuple[str, float, float]] = {
    "maxDepth": ("max_depth", 1, 10),
    "learningRate": ("eta", 0.005, 0.5),
    "minChildWeight": ("min_child_weight", 0, 100),
    "subsample": ("subsample", 0.3, 1),
    "colsampleBytree": ("colsample_bytree", 0.3, 1),
    "regLambda": ("reg_lambda", 0, 100),
}
INTEGER = {"maxDepth"}
# The linear family's L2 strength: C (inverse strength) for logistic regression, alpha for ridge.
LINEAR_RANGES: dict[str, tuple[str, float, float]] = {
    "C": ("logistic", 0.0001, 100),
    "alpha": ("ridge", 0.001, 10000),
}
# Held-out fraction: below 0.1 the test metrics rest on too few rows, above 0.4 the model
# trains on too little.
VALIDATION_SPLIT = (0.1, 0.4)


@dataclass(frozen=True, kw_only=True)
class TrainingChoices:
    family: str = "auto"
    tree_overrides: dict[str, Any] = field(default_factory=dict)
    linear_strength: float | None = None
    test_fraction: float | None = None
    # The validated request in the model API's own names, so a retrain can repeat it.
    api: dict[str, Any] = field(default_factory=dict)

    @property
    def requested(self) -> dict[str, Any]:
        """What the caller asked for, as recorded on the version."""
        return {
            "family": self.family,
            "xgboost": dict(self.tree_overrides),
            "linearStrength": self.linear_strength,
            "validationSplit": self.test_fraction,
            "api": dict(self.api),
        }


def _invalid(message: str, **details: Any) -> InvalidInput:
    return InvalidInput(message, code="VALIDATION_ERROR", details=details)


def _number(name: str, value: Any, low: float, high: float, *, integer: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid(f"hyperparameters.{name} must be a number", field=f"hyperparameters.{name}")
    if integer and float(value) != int(value):
        raise _invalid(
            f"hyperparameters.{name} must be a whole number", field=f"hyperparameters.{name}"
        )
    if not low <= float(value) <= high:
        raise _invalid(
            f"hyperparameters.{name} must be between {low:g} and {high:g}",
            field=f"hyperparameters.{name}",
            min=low,
            max=high,
        )
    return int(value) if integer else float(value)


def parse_choices(
    *,
    prediction_type: str,
    algorithm: str | None,
    hyperparameters: Mapping[str, Any] | None,
    validation_split: float | None,
) -> TrainingChoices:
    """Checks an API training spec; raises VALIDATION_ERROR naming the field and what is allowed."""
    supported = ALGORITHMS.get(prediction_type)
    if supported is None:
        raise _invalid(f"{prediction_type} cannot be trained", field="type")
    name = (algorithm or "auto").strip().lower()
    if name not in supported:
        raise _invalid(
            f"Algorithm '{algorithm}' is not supported for {prediction_type}; "
            f"choose one of: {', '.join(supported)}",
            field="algorithm",
            supported=list(supported),
        )
    family = supported[name]
    given = dict(hyperparameters or {})
    linear_kind = next((v for v in supported.values() if v in ("logistic", "ridge")), None)
    linear_name = next((k for k, v in LINEAR_RANGES.items() if v[0] == linear_kind), None)
    uses_trees = family in ("auto", "xgboost", "blend")
    uses_linear = linear_name is not None and family != "xgboost"
    allowed = [*(TREE_RANGES if uses_trees else []), *([linear_name] if uses_linear else [])]
    unknown = [key for key in given if key not in allowed]
    if unknown:
        raise _invalid(
            f"Unknown hyperparameters for {name} on {prediction_type}: {', '.join(unknown)}; "
            f"allowed: {', '.join(str(a) for a in allowed) or 'none'}",
            field="hyperparameters",
            invalid=unknown,
            allowed=allowed,
        )
    tree: dict[str, Any] = {}
    for key, (param, low, high) in TREE_RANGES.items():
        if key in given:
            tree[param] = _number(key, given[key], low, high, integer=key in INTEGER)
    strength = None
    if linear_name is not None and linear_name in given:
        _, low, high = LINEAR_RANGES[linear_name]
        strength = _number(linear_name, given[linear_name], low, high, integer=False)
    fraction = None
    if validation_split is not None:
        low, high = VALIDATION_SPLIT
        if isinstance(validation_split, bool) or not isinstance(validation_split, int | float):
            raise _invalid(
                "trainingConfig.validationSplit must be a number",
                field="trainingConfig.validationSplit",
            )
        if not low <= float(validation_split) <= high:
            raise _invalid(
                f"trainingConfig.validationSplit must be between {low:g} and {high:g}",
                field="trainingConfig.validationSplit",
                min=low,
                max=high,
            )
        fraction = float(validation_split)
    return TrainingChoices(
        family=family,
        tree_overrides=tree,
        linear_strength=strength,
        test_fraction=fraction,
        api={"algorithm": name, "hyperparameters": given, "validationSplit": fraction},
    )


def choices_from_params(params: Mapping[str, Any]) -> TrainingChoices:
    """A job's stored params back to choices (re-validated: params are data, not trusted)."""
    return parse_choices(
        prediction_type=str(params["predictionType"]).upper(),
        algorithm=params.get("algorithm"),
        hyperparameters=params.get("hyperparameters"),
        validation_split=params.get("validationSplit"),
    )
