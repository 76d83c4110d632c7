"""Drift of one model version: its live population's features against the training baseline,
its outputs against its first outputs, and its recent validated accuracy against its held-out
accuracy (the statistics are in drift.py).

* Live population: the entities the model scores when given no ids, at `as_of` (open leads for
  lead models, alive customers for customer models), built with the training code path and
  decoded by the model's own preprocessor, so a value is binned exactly as training binned it.
* Score drift: the model's outputs on that population now (probability for binary models, the
  probability of an event within the horizon for time to close, the predicted value for
  regression) against the outputs of its earliest recorded predictions (its first
  `REFERENCE_PREDICTIONS`), since the held-out score distribution is not stored with a model.
  Null, with a reason, until the model has recorded predictions.
* Concept drift: validated predictions of this model whose validation is at most
  `CONCEPT_WINDOW` before `as_of`, against the held-out `accuracy` metric, each judged by the
  rule that metric used: binary models at their threshold and time to close inside its p10-p90
  interval, as validation judges them (`was_accurate`); a health forecast inside the p10-p90
  interval it was served with, since its held-out accuracy is that interval's coverage while
  validation judges it by a tolerance in points (comparing the two would report the gap between
  the rules as drift). `detectedAt` is when the newest of those judgements was made: the moment
  the figure was last established (the document shows it beside a drift below any alert
  threshold, so it is not the time of an alarm). Null, with the reason, until some prediction
  of the model has been judged in the window (ADR 0016).
* Recommendations: retrain when the overall drift score reaches the tenant's
  `training.retrainThreshold`, or when concept drift exceeds `monitoring.alertThresholds.
  accuracyDrop` with confidence >= 0.95; investigate a drifted feature (moderate or significant
  PSI whose test is significant at 1%).
* Clock features (lead age, days since created or since the last activity, tenure...; flagged by
  the feature code, `FeatureDefinition.clock`) drift by construction between pooled training
  snapshots and today's open population (drift.py). They are reported with `clock: true` and a
  note, but count neither in the overall score nor towards any recommendation, and are not
  listed as drifted features (so no drift alert either).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.errors import Conflict
from propensity.mlconfig.service import MlConfig, load_ml_config
from propensity.modeling import AnyModel, BinaryModel, load_model
from propensity.modeling.regression import RegressionModel
from propensity.modeling.survival import SurvivalModel
from propensity.models import ModelVersion, Prediction
from propensity.monitoring import drift as stats
from propensity.monitoring import output_drift
from propensity.predictions.scoring import model_frame
from propensity.registry.service import artifact_cache
from propensity.timefmt import iso_z

REFERENCE_PREDICTIONS = 5000
CONCEPT_WINDOW = timedelta(days=30)
CONCEPT_CONFIDENCE = 0.95


@dataclass(frozen=True, kw_only=True)
class DriftReport:
    model_id: int
    as_of: datetime
    rows: int
    features: list[stats.FeatureDrift]
    overall: float | None
    scores: output_drift.ScoreDrift | None
    score_note: str | None
    concept: output_drift.ConceptDrift | None
    concept_note: str | None
    concept_detected_at: datetime | None
    recommendations: list[dict[str, Any]]
    retrain_threshold: float
    accuracy_drop: float

    def drifted_features(self) -> list[stats.FeatureDrift]:
        return drifted_features(self.features)

    def clock_note(self) -> str | None:
        moved = sorted((d for d in self.features if d.clock and d.drifted), key=lambda d: -d.psi)
        if not moved:
            return None
        listed = ", ".join(f"{d.name} (PSI {d.psi:.3f})" for d in moved)
        return (
            f"Clock features moved: {listed}. They measure time since an entity's own dates, so "
            "today's open population differs from the training snapshots by its age mix alone; "
            "they are reported but not counted in the overall drift score or recommendations."
        )

    def to_dict(self) -> dict[str, Any]:
        concept: dict[str, Any] | None = None
        if self.concept is not None:
            concept = {
                **self.concept.to_dict(),
                "detectedAt": iso_z(self.concept_detected_at) if self.concept_detected_at else None,
            }
        return {
            "modelId": self.model_id,
            "asOf": iso_z(self.as_of),
            "driftAnalysis": {
                "overallDrift": None if self.overall is None else round(self.overall, 6),
                "featureDrift": {d.name: round(d.psi, 6) for d in self.features},
                "conceptDrift": concept,
                "scoreDrift": None if self.scores is None else self.scores.to_dict(),
                "features": [d.to_dict() for d in self.features],
                "sampleSize": self.rows,
                "clockFeatures": [d.name for d in self.features if d.clock],
                "notes": [n for n in (self.score_note, self.concept_note, self.clock_note()) if n],
                "thresholds": {
                    "psiModerate": stats.PSI_STABLE,
                    "psiSignificant": stats.PSI_SIGNIFICANT,
                    "significance": stats.SIGNIFICANCE,
                    "retrainThreshold": self.retrain_threshold,
                    "accuracyDrop": self.accuracy_drop,
                },
            },
            "recommendations": self.recommendations,
        }


def drifted_features(features: list[stats.FeatureDrift]) -> list[stats.FeatureDrift]:
    """Drifted non-clock features, most drifted first (clock features: module doc)."""
    return sorted((d for d in features if d.drifted and not d.clock), key=lambda d: -d.psi)


def load_version_model(session: Session, *, version: ModelVersion) -> AnyModel:
    return artifact_cache.get(session, version=version, loader=load_model)


def model_outputs(model: AnyModel, frame: Any, *, horizon_days: float) -> np.ndarray:
    """The number score drift compares: see the module doc."""
    if isinstance(model, BinaryModel):
        return np.asarray(model.predict_proba(frame), dtype=np.float64)
    if isinstance(model, SurvivalModel):
        return np.asarray(model.probability_within(frame, horizon_days), dtype=np.float64)
    assert isinstance(model, RegressionModel)
    return np.asarray(model.predict(frame), dtype=np.float64)


def _baseline_rows(version: ModelVersion) -> int | None:
    """Rows the stored statistics were computed on (the development rows)."""
    rows = (version.training_summary or {}).get("model", {}).get("development_rows")
    return int(rows) if isinstance(rows, int) and rows > 0 else None


def _reference_outputs(session: Session, version: ModelVersion) -> np.ndarray:
    """Outputs of the model's first recorded predictions: the stored number `model_outputs`
    recomputes (probability; probability within the horizon for time to close; predicted value
    for regression)."""
    column = (
        Prediction.predicted_value
        if version.prediction_type == "HEALTH_TREND"
        else Prediction.probability
    )
    values = session.scalars(
        sa.select(column)
        .where(Prediction.model_version_id == version.id)
        .order_by(Prediction.predicted_at, Prediction.id)
        .limit(REFERENCE_PREDICTIONS)
    ).all()
    return np.asarray([v for v in values if v is not None], dtype=np.float64)


def concept_alarm(concept: output_drift.ConceptDrift | None, *, accuracy_drop: float) -> bool:
    """The accuracy rule behind the retrain recommendation (and automatic retraining): recent
    accuracy more than `accuracy_drop` below the held-out accuracy, with confidence >= 0.95."""
    return (
        concept is not None
        and concept.score > accuracy_drop
        and concept.confidence >= CONCEPT_CONFIDENCE
    )


def recent_concept(
    session: Session, *, version: ModelVersion, as_of: datetime
) -> tuple[output_drift.ConceptDrift | None, str | None, datetime | None]:
    """Concept drift of `version` from its predictions validated in the `CONCEPT_WINDOW` before
    `as_of`, or None with the reason; and when the latest of them was validated."""
    held_out = (version.metrics or {}).get("accuracy")
    if not isinstance(held_out, int | float):
        return None, "No held-out accuracy is stored for this model type.", None
    judged = [
        Prediction.model_version_id == version.id,
        Prediction.was_accurate.is_not(None),
        Prediction.validated_at > as_of - CONCEPT_WINDOW,
        Prediction.validated_at <= as_of,
    ]
    accurate_if: sa.ColumnElement[bool] = Prediction.was_accurate.is_(True)
    if version.prediction_type == "HEALTH_TREND":
        # The interval the forecast was served with (module doc); one served without one is
        # not counted.
        low = Prediction.outputs["low"].as_float()
        high = Prediction.outputs["high"].as_float()
        judged += [Prediction.actual_value.is_not(None), low.is_not(None), high.is_not(None)]
        accurate_if = Prediction.actual_value.between(low, high)
    row = session.execute(
        sa.select(
            sa.func.count(Prediction.id),
            sa.func.sum(sa.case((accurate_if, 1), else_=0)),
            sa.func.max(Prediction.validated_at),
        ).where(*judged)
    ).one()
    validated, accurate, latest = int(row[0] or 0), int(row[1] or 0), row[2]
    if validated == 0:
        days = CONCEPT_WINDOW.days
        return None, f"No prediction of this model was validated in the last {days} days.", None
    return (
        output_drift.concept_drift(
            accurate=accurate, validated=validated, baseline_accuracy=float(held_out)
        ),
        None,
        latest,
    )


def recommendations(
    *,
    overall: float | None,
    drifted: list[stats.FeatureDrift],
    concept: output_drift.ConceptDrift | None,
    config: MlConfig,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    threshold = config.training.retrainThreshold
    accuracy_drop = config.monitoring.alertThresholds.accuracyDrop
    top = ", ".join(d.name for d in drifted[:3])
    if overall is not None and overall >= threshold:
        out.append(
            {
                "type": "retraining",
                "priority": "high" if overall >= 2 * threshold else "medium",
                "reason": f"Overall drift score {overall:.3f} reached the retrain threshold "
                f"{threshold:g}" + (f" (most drifted: {top})" if top else ""),
                "suggestedAction": "Retrain the model on recent data"
                + (" now" if overall >= 2 * threshold else " within 7 days"),
            }
        )
    if concept is not None and concept_alarm(concept, accuracy_drop=accuracy_drop):
        out.append(
            {
                "type": "retraining",
                "priority": "high",
                "reason": f"Accuracy on recently validated predictions "
                f"({concept.recent_accuracy:.3f}) is {concept.score:.3f} below the held-out "
                f"accuracy ({concept.baseline_accuracy:.3f}); the alert threshold is "
                f"{accuracy_drop:g}",
                "suggestedAction": "Retrain the model; outcomes no longer follow the patterns "
                "it learned",
            }
        )
    for feature in drifted:
        out.append(
            {
                "type": "investigation",
                "priority": "medium" if feature.level == "significant" else "low",
                "reason": f"{feature.name} drifted: PSI {feature.psi:.3f} ({feature.level}), "
                f"p = {feature.test.p_value:.2g}",
                "suggestedAction": f"Check how {feature.name} is collected or imported; "
                "retrain if the change is real",
            }
        )
    return out


def model_drift(session: Session, *, version: ModelVersion, as_of: datetime) -> DriftReport:
    """Feature, score and concept drift of `version` at `as_of` (see the module doc)."""
    if not version.artifact_hash:
        raise Conflict(
            f"Model {version.id} has no trained artifact (status '{version.status}'): "
            "drift needs a trained model",
            code="MODEL_NOT_READY",
            details={"modelId": version.id, "status": version.status},
        )
    config = load_ml_config(session, tenant_id=version.tenant_id)
    model = load_version_model(session, version=version)
    frame = model_frame(session, version=version, model=model, entity_ids=None, as_of=as_of)
    features: list[stats.FeatureDrift] = []
    current = np.empty(0)
    clock = {d.name for d in frame.definitions if d.clock}
    if len(frame.frame):
        decoded = model.engine.preprocessor.decode(frame.frame.reset_index(drop=True))
        baseline_rows = _baseline_rows(version)
        stored = version.feature_stats or {}
        for spec, values in zip(model.features, decoded, strict=True):
            if spec.name not in stored:
                continue
            result = stats.feature_drift(
                spec.name,
                stored[spec.name],
                values,
                baseline_rows=baseline_rows,
                clock=spec.name in clock,
            )
            if result is not None:
                features.append(result)
        current = model_outputs(model, frame.frame, horizon_days=float(version.horizon_days or 90))
    overall = stats.overall_drift(features, version.feature_importance or {})
    reference = _reference_outputs(session, version)
    scores = output_drift.score_drift(reference, current)
    score_note = None
    if scores is None:
        score_note = (
            "Score drift needs recorded predictions of this model."
            if reference.size == 0
            else "The live population is empty."
        )
    concept, concept_note, validated_at = recent_concept(session, version=version, as_of=as_of)
    drifted = drifted_features(features)
    return DriftReport(
        model_id=version.id,
        as_of=as_of,
        rows=len(frame.frame),
        features=features,
        overall=overall,
        scores=scores,
        score_note=score_note,
        concept=concept,
        concept_note=concept_note,
        concept_detected_at=validated_at,
        recommendations=recommendations(
            overall=overall, drifted=drifted, concept=concept, config=config
        ),
        retrain_threshold=config.training.retrainThreshold,
        accuracy_drop=config.monitoring.alertThresholds.accuracyDrop,
    )
