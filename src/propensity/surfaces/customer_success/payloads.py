"""The document's JSON shapes, built from stored predictions and the account's own data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from propensity.crm.health import health_history
from propensity.db import Session
from propensity.llm.stored import template_outcome
from propensity.models import Customer, ModelVersion, Prediction
from propensity.narratives import health_narrative
from propensity.narratives.risk import RiskCutoffs, urgency
from propensity.settings import Settings
from propensity.timefmt import iso_z
from propensity.vocabulary import PredictionType

RISK_FACTOR_KEYS = ("factor", "impact", "description")
DEFAULT_HEALTH_HORIZON = 30


def _common(prediction: Prediction, version: ModelVersion) -> dict[str, Any]:
    return {
        "predictionId": prediction.id,
        "predictionType": prediction.prediction_type,
        "probability": prediction.probability,
        "confidence": prediction.confidence,
        "predictionWindowDays": version.horizon_days,
        "predictedAt": iso_z(prediction.predicted_at),
        "validUntil": iso_z(prediction.valid_until),
        "modelVersion": f"v{version.version_number}",
    }


def churn_data(
    prediction: Prediction,
    *,
    version: ModelVersion,
    account: Customer,
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    outputs = prediction.outputs or {}
    probability = float(prediction.probability or 0.0)
    category = RiskCutoffs.of(threshold=version.threshold, settings=settings).category(probability)
    return {
        **_common(prediction, version),
        "riskCategory": category,
        "churnProbability": probability,
        "retentionProbability": round(1.0 - probability, 6),
        "primaryChurnDrivers": list(outputs.get("primaryDrivers") or []),
        "interventionUrgency": urgency(category, renewal_date=account.renewal_date, now=now),
        "riskFactors": [
            {k: f.get(k) for k in RISK_FACTOR_KEYS} for f in outputs.get("riskFactors") or []
        ],
        "recommendations": list(outputs.get("recommendations") or []),
        "explanation": prediction.explanation,
        "llmMetadata": template_outcome(prediction),
    }


def health_data(
    session: Session,
    prediction: Prediction,
    *,
    version: ModelVersion,
    account: Customer,
) -> dict[str, Any]:
    outputs = prediction.outputs or {}
    history = health_history(session, customer_id=account.id, until=prediction.predicted_at.date())
    current = outputs.get("currentScore")
    if current is None:
        current = account.health_score
    predicted = prediction.predicted_value
    story = health_narrative(
        dimensions=history.dimensions,
        overall=history.overall or None,
        predicted_score=predicted,
        horizon_days=version.horizon_days or DEFAULT_HEALTH_HORIZON,
    )
    return {
        **_common(prediction, version),
        "currentHealthScore": None if current is None else round(float(current), 1),
        "predictedScore": None if predicted is None else round(float(predicted), 1),
        "scoreTrajectory": outputs.get("trajectory") or "unknown",
        "predictedRange": (
            {"low": round(outputs["low"], 1), "high": round(outputs["high"], 1)}
            if "low" in outputs and "high" in outputs
            else None
        ),
        "insights": [i.to_dict() for i in story.insights],
        "anomalies": [a.to_dict() for a in story.anomalies],
        "strengthAreas": story.strength_areas,
        "riskAreas": story.risk_areas,
        "recommendations": [r.to_dict() for r in story.recommendations]
        or list(outputs.get("recommendations") or []),
        "explanation": prediction.explanation,
        "llmMetadata": template_outcome(prediction),
    }


def prediction_data(
    session: Session,
    prediction: Prediction,
    *,
    version: ModelVersion,
    account: Customer,
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    if prediction.prediction_type == PredictionType.HEALTH_TREND.value:
        return health_data(session, prediction, version=version, account=account)
    return churn_data(prediction, version=version, account=account, settings=settings, now=now)


def listed(prediction: Prediction) -> dict[str, Any]:
    return {
        "id": prediction.id,
        "predictionType": prediction.prediction_type,
        "probability": prediction.probability,
        "predictedValue": prediction.predicted_value,
        "confidence": prediction.confidence,
        "explanation": prediction.explanation,
        "predictedAt": iso_z(prediction.predicted_at),
        "validUntil": iso_z(prediction.valid_until),
        "status": prediction.status,
        "wasAccurate": prediction.was_accurate,
        "actualValue": prediction.actual_value,
        "validatedAt": iso_z(prediction.validated_at) if prediction.validated_at else None,
    }


def account_summary(account: Customer) -> dict[str, Any]:
    return {
        "id": account.id,
        "name": account.name,
        "type": account.account_type or "CUSTOMER",
        "healthScore": None if account.health_score is None else round(account.health_score),
    }
