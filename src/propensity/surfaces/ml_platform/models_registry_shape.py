"""The model registry in the document's shapes, and its type vocabulary.

Document type -> prediction types (the registry's own names):
* scoring        -> CONVERSION (lead conversion probability, the lead score's basis)
* classification -> CHURN (accounts or subscribers: `target.kind`)
* regression     -> HEALTH_TREND (account health in 30 days) and TIME_TO_CLOSE (lead days to
                    close, a survival model); a regression request must name which in
                    `target.predictionType`.

Metrics are the stored held-out ones under honest names: `testAccuracy`, `precision`,
`recall`, `f1Score`, `auc` are measured on the held-out test split (`evaluatedOn` says which);
`innerValidationAuc`/`innerValidationF1` come from the out-of-fold predictions of the inner
cross-validation. No training-set accuracy is recorded (it would only flatter the model), so the
document's `trainAccuracy` is absent. `accuracy` in listings is the held-out accuracy for binary
models and null for the others, whose quality is in their own metrics (mae, r2, cIndex...).
"""

from __future__ import annotations

from typing import Any

from propensity.errors import InvalidInput
from propensity.models import ModelVersion
from propensity.timefmt import iso_z
from propensity.vocabulary import PredictionType

DOC_TYPES: dict[str, tuple[str, ...]] = {
    "scoring": (PredictionType.CONVERSION.value,),
    "classification": (PredictionType.CHURN.value,),
    "regression": (PredictionType.HEALTH_TREND.value, PredictionType.TIME_TO_CLOSE.value),
}
STATUSES = ("active", "inactive", "training", "failed", "retired")
# Stored metric -> document name; other numeric metrics keep a camelCase form of their name.
METRIC_NAMES = {
    "accuracy": "testAccuracy",
    "precision": "precision",
    "recall": "recall",
    "f1": "f1Score",
    "roc_auc": "auc",
    "pr_auc": "prAuc",
    "inner_validation_roc_auc": "innerValidationAuc",
    "inner_validation_f1": "innerValidationF1",
    "evaluated_on": "evaluatedOn",
}
LIST_METRICS = ("precision", "recall", "f1Score", "auc", "mae", "r2", "cIndex")
FRAMEWORKS = {
    "xgboost": "xgboost",
    "logistic": "scikit-learn",
    "ridge": "scikit-learn",
    "blend": "xgboost+scikit-learn",
    "catboost": "catboost",
}


def doc_type(prediction_type: str) -> str:
    for name, types in DOC_TYPES.items():
        if prediction_type in types:
            return name
    return prediction_type.lower()


def parse_type(value: str | None) -> tuple[str, ...] | None:
    if value is None or not value.strip():
        return None
    name = value.strip().lower()
    if name not in DOC_TYPES:
        raise InvalidInput(
            f"Unknown model type '{value}': use one of {', '.join(DOC_TYPES)}",
            code="VALIDATION_ERROR",
            details={"field": "type", "allowed": list(DOC_TYPES)},
        )
    return DOC_TYPES[name]


def parse_status(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    name = value.strip().lower()
    if name not in STATUSES:
        raise InvalidInput(
            f"Unknown status '{value}': use one of {', '.join(STATUSES)}",
            code="VALIDATION_ERROR",
            details={"field": "status", "allowed": list(STATUSES)},
        )
    return name


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def doc_metrics(version: ModelVersion) -> dict[str, Any]:
    return named_metrics(version.metrics or {})


def named_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """Stored metrics under the document's names (camelCase, `auc`, `testAccuracy`, ...)."""
    out: dict[str, Any] = {}
    for key, value in metrics.items():
        if key in METRIC_NAMES:
            out[METRIC_NAMES[key]] = value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[_camel(key)] = value
    return out


def accuracy_of(version: ModelVersion) -> float | None:
    value = (version.metrics or {}).get("accuracy")
    return float(value) if isinstance(value, int | float) else None


def summary(version: ModelVersion) -> dict[str, Any]:
    metrics = doc_metrics(version)
    return {
        "id": str(version.id),
        "name": version.name,
        "type": doc_type(version.prediction_type),
        "predictionType": version.prediction_type,
        "population": version.population,
        "algorithm": version.algorithm,
        "accuracy": accuracy_of(version),
        "status": version.status,
        "createdAt": iso_z(version.created_at),
        "lastTrained": iso_z(version.trained_at) if version.trained_at else None,
        "version": version.version,
        "metrics": {k: metrics[k] for k in LIST_METRICS if k in metrics},
    }


def _hyperparameters(version: ModelVersion) -> dict[str, Any]:
    stored = dict(version.hyperparameters or {})
    trees = stored.get("xgboost") or {}
    out: dict[str, Any] = {}
    if trees:
        out.update(
            {
                "maxDepth": trees.get("max_depth"),
                "learningRate": trees.get("eta"),
                "nEstimators": trees.get("rounds"),
                "minChildWeight": trees.get("min_child_weight"),
                "subsample": trees.get("subsample"),
                "colsampleBytree": trees.get("colsample_bytree"),
                "regLambda": trees.get("reg_lambda"),
            }
        )
    if "logistic" in stored:
        out["C"] = stored["logistic"].get("C")
    if "ridge" in stored:
        out["alpha"] = stored["ridge"].get("alpha")
    if "tree_weight" in stored:
        out["treeWeight"] = stored["tree_weight"]
    out["stored"] = stored
    return out


def training_data(version: ModelVersion) -> dict[str, Any]:
    model = (version.training_summary or {}).get("model") or {}
    return {
        "totalSamples": model.get("rows"),
        "trainSamples": model.get("development_rows"),
        "testSamples": model.get("test_rows"),
        "split": model.get("split"),
        "featureCount": len(version.feature_specs or []) or model.get("features"),
    }


def detail(version: ModelVersion) -> dict[str, Any]:
    stored = version.hyperparameters or {}
    family = str(stored.get("family") or version.algorithm or "")
    failure = (version.training_summary or {}).get("failure")
    return {
        **summary(version),
        "description": version.description,
        "framework": FRAMEWORKS.get(family),
        "hyperparameters": _hyperparameters(version),
        "featureImportance": version.feature_importance or {},
        "metrics": doc_metrics(version),
        "trainingData": training_data(version),
        "requested": (version.training_config or {}).get("requested"),
        "error": (
            None if version.error is None else {"message": version.error, "details": failure or {}}
        ),
        "statusHistory": version.status_history or [],
        "activatedAt": iso_z(version.activated_at) if version.activated_at else None,
    }
