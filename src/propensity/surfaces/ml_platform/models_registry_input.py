"""Request bodies of the model registry endpoints (schemas.py), checked before anything is
written: the document's model types mapped to what the core trains, and the document's fields
that have no effect here named back (`notApplied`)."""

from __future__ import annotations

from typing import Any

from propensity.errors import InvalidInput
from propensity.modeling.trees import PATIENCE
from propensity.surfaces.ml_platform.models_registry_shape import DOC_TYPES
from propensity.surfaces.ml_platform.schemas import CreateModelRequest, RequestBody, Target
from propensity.training.requests import TrainingRequest
from propensity.vocabulary import PredictionType

KINDS = ("account", "subscriber")
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


def text_or_none(value: str | None) -> str | None:
    return None if value is None else value.strip() or None


def not_applied(body: RequestBody | None, table: dict[str, str]) -> list[dict[str, str]]:
    """The fields of `table` (dotted paths) the request sent, each with why it has no effect."""
    fields = {} if body is None else body.model_dump(by_alias=True)
    out = []
    for path, reason in table.items():
        value: Any = fields
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            out.append({"field": path, "reason": reason})
    return out


def missing_type() -> InvalidInput:
    return invalid(f"type is required: one of {', '.join(DOC_TYPES)}", "type")


def _target(type_name: str, target: Target) -> tuple[str, str | None]:
    if type_name.strip().lower() not in DOC_TYPES:
        raise missing_type()
    candidates = DOC_TYPES[type_name.strip().lower()]
    requested = target.prediction_type
    if requested is None:
        if len(candidates) > 1:
            raise invalid(
                f"type {type_name} needs target.predictionType: one of {', '.join(candidates)}",
                "target.predictionType",
                allowed=list(candidates),
            )
        prediction_type = candidates[0]
    else:
        prediction_type = requested.strip().upper()
        if prediction_type not in candidates:
            raise invalid(
                f"target.predictionType of a {type_name} model must be one of "
                f"{', '.join(candidates)}",
                "target.predictionType",
                allowed=list(candidates),
            )
    kind = target.kind
    if prediction_type != PredictionType.CHURN.value:
        if kind is not None:
            raise invalid("target.kind applies to classification (churn) models only", "kind")
        return prediction_type, None
    if kind is not None and kind not in KINDS:
        raise invalid(f"target.kind must be one of {', '.join(KINDS)}", "target.kind")
    return prediction_type, kind


def training_request(body: CreateModelRequest) -> TrainingRequest:
    """What a create request asks to train (its algorithm and hyperparameters are checked
    when it is queued: training.requests)."""
    prediction_type, kind = _target(body.type, body.target or Target())
    config = body.training_config
    return TrainingRequest(
        prediction_type=prediction_type,
        kind=kind,
        algorithm=body.algorithm,
        hyperparameters=body.hyperparameters or {},
        validation_split=None if config is None else config.validation_split,
    )
