"""Request bodies of the model registry endpoints, checked before anything is written."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from propensity.errors import InvalidInput
from propensity.modeling.trees import PATIENCE
from propensity.models import ModelVersion
from propensity.surfaces.ml_platform.models_registry_shape import DOC_TYPES
from propensity.training.hyperparameters import TrainingChoices, parse_choices
from propensity.vocabulary import PredictionType

KINDS = ("account", "subscriber")
MAX_NAME = 200
MAX_TEXT = 2000
DATA_SOURCE = "Models train on the tenant's own CRM data; there is no other data source"
# Fields of the document's example requests that this service accepts but cannot act on: the
# answer lists them (`notApplied`) rather than letting the caller believe they took effect.
NOT_APPLIED_CREATE = {
    "trainingConfig.dataSource": DATA_SOURCE,
    "trainingConfig.earlyStopping": "Not a choice: tree models always stop early on inner "
    "validation folds; linear models do not iterate",
    "trainingConfig.patience": f"Fixed by the trainer ({PATIENCE} rounds without improvement)",
}
NOT_APPLIED_RETRAIN = {
    "priority": "Training jobs run in the order they are queued",
    "dataSource": DATA_SOURCE,
    "hyperparameterTuning": "No hyperparameter search: the retrained model's own algorithm "
    "and hyperparameters are reused (with algorithm auto, the family is chosen on inner "
    "validation as before)",
}


def invalid(message: str, field: str, **details: Any) -> InvalidInput:
    return InvalidInput(message, code="VALIDATION_ERROR", details={"field": field, **details})


def body_object(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise invalid("Send a JSON object", "body")
    return body


def optional_text(fields: dict[str, Any], name: str, limit: int) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise invalid(f"{name} must be text of at most {limit} characters", name)
    return value.strip() or None


def not_applied(fields: dict[str, Any], table: dict[str, str]) -> list[dict[str, str]]:
    """The fields of `table` (dotted paths) the request sent, each with why it has no effect."""
    out = []
    for path, reason in table.items():
        value: Any = fields
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            out.append({"field": path, "reason": reason})
    return out


def optional_object(fields: dict[str, Any], name: str) -> dict[str, Any]:
    value = fields.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid(f"{name} must be an object", name)
    return value


@dataclass(frozen=True, kw_only=True)
class TrainSpec:
    prediction_type: str
    kind: str | None
    choices: TrainingChoices
    algorithm: str
    hyperparameters: dict[str, Any]
    validation_split: float | None

    def job_params(self, *, name: str | None, description: str) -> dict[str, Any]:
        return {
            "predictionType": self.prediction_type,
            "kind": self.kind,
            "name": name,
            "description": description,
            "algorithm": self.algorithm,
            "hyperparameters": self.hyperparameters,
            "validationSplit": self.validation_split,
            # Trained models wait, inactive, to be deployed or activated.
            "activate": False,
        }


def _target(fields: dict[str, Any]) -> tuple[str, str | None]:
    type_name = fields.get("type")
    if not isinstance(type_name, str) or type_name.strip().lower() not in DOC_TYPES:
        raise invalid(f"type is required: one of {', '.join(DOC_TYPES)}", "type")
    candidates = DOC_TYPES[type_name.strip().lower()]
    target = optional_object(fields, "target")
    requested = target.get("predictionType")
    if requested is None:
        if len(candidates) > 1:
            raise invalid(
                f"type {type_name} needs target.predictionType: one of {', '.join(candidates)}",
                "target.predictionType",
                allowed=list(candidates),
            )
        prediction_type = candidates[0]
    else:
        prediction_type = str(requested).strip().upper()
        if prediction_type not in candidates:
            raise invalid(
                f"target.predictionType of a {type_name} model must be one of "
                f"{', '.join(candidates)}",
                "target.predictionType",
                allowed=list(candidates),
            )
    kind = target.get("kind")
    if prediction_type != PredictionType.CHURN.value:
        if kind is not None:
            raise invalid("target.kind applies to classification (churn) models only", "kind")
        return prediction_type, None
    if kind is not None and kind not in KINDS:
        raise invalid(f"target.kind must be one of {', '.join(KINDS)}", "target.kind")
    return prediction_type, kind


def train_spec(fields: dict[str, Any]) -> TrainSpec:
    prediction_type, kind = _target(fields)
    algorithm = fields.get("algorithm")
    if algorithm is not None and not isinstance(algorithm, str):
        raise invalid("algorithm must be text", "algorithm")
    hyperparameters = optional_object(fields, "hyperparameters")
    config = optional_object(fields, "trainingConfig")
    split = config.get("validationSplit")
    choices = parse_choices(
        prediction_type=prediction_type,
        algorithm=algorithm,
        hyperparameters=hyperparameters,
        validation_split=split,
    )
    return TrainSpec(
        prediction_type=prediction_type,
        kind=kind,
        choices=choices,
        algorithm=(algorithm or "auto").strip().lower(),
        hyperparameters=hyperparameters,
        validation_split=split,
    )


def retrain_spec(version: ModelVersion, fields: dict[str, Any]) -> TrainSpec:
    """The version's own spec (type, population, requested algorithm and hyperparameters),
    with `validationSplit` from the body when given."""
    requested = (version.training_config or {}).get("requested") or {}
    stored = dict(requested.get("api") or {})
    split = fields.get("validationSplit", stored.get("validationSplit"))
    hyperparameters = dict(stored.get("hyperparameters") or {})
    algorithm = str(stored.get("algorithm") or "auto")
    choices = parse_choices(
        prediction_type=version.prediction_type,
        algorithm=algorithm,
        hyperparameters=hyperparameters,
        validation_split=split,
    )
    kind = version.population if version.prediction_type == PredictionType.CHURN.value else None
    return TrainSpec(
        prediction_type=version.prediction_type,
        kind=kind,
        choices=choices,
        algorithm=algorithm,
        hyperparameters=hyperparameters,
        validation_split=split,
    )
