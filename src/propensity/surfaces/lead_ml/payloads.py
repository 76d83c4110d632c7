"""The document's JSON shapes, built from stored predictions and ranked leads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from propensity.llm.service import NO_LLM_CONFIGURED
from propensity.llm.stored import template_outcome
from propensity.models import Prediction, PredictionStatus
from propensity.narratives.words_lead import factor_trend, factor_value
from propensity.predictions.lead_scores import Days, days_of, level, level_cutoffs, threshold_of
from propensity.serving.lead_ranking import RankedLead, Reasoner
from propensity.settings import Settings
from propensity.timefmt import iso_z
from propensity.vocabulary import PredictionType

RULES_SKIP_LLM = "rule-based prediction (the LLM is skipped)"
RISK_FACTOR_KEYS = ("factor", "impact", "currentValue", "trend", "description")
UNLIKELY = "Unlikely to close within a year"
# How the TIME_TO_CLOSE narrative opens (narratives templates): the uncapped median.
DAYS_SENTENCE = "Expected to convert in about"


def score_level(probability: float, *, threshold: float | None, settings: Settings) -> str:
    hot, warm = level_cutoffs(
        threshold, hot=settings.lead_hot_probability, warm=settings.lead_warm_probability
    )
    return level(probability, hot=hot, warm=warm)


def _risk_factor(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored risk factor in the document's types and trend words (predictions stored
    before they were kept that way included)."""
    factor = {k: stored.get(k) for k in RISK_FACTOR_KEYS}
    factor["currentValue"] = factor_value(factor["currentValue"])
    factor["trend"] = factor_trend(factor["trend"])
    return factor


def _common(prediction: Prediction, *, explain: bool = True) -> dict[str, Any]:
    outputs = prediction.outputs or {}
    return {
        "predictionType": prediction.prediction_type,
        "probability": prediction.probability,
        "confidence": prediction.confidence,
        "predictionId": prediction.id,
        # The document's full prediction carries both; null where they do not apply (a
        # conversion's value, a score's days), set by the type's shape below.
        "predictedValue": None,
        "predictedDays": None,
        "riskFactors": [_risk_factor(f) for f in outputs.get("riskFactors") or []],
        "explanation": prediction.explanation if explain else None,
        "recommendations": list(outputs.get("recommendations") or []),
        "method": outputs.get("method") or "model",
        "modelVersionId": prediction.model_version_id,
        "predictedAt": iso_z(prediction.predicted_at),
        "validUntil": iso_z(prediction.valid_until),
        "llmMetadata": template_outcome(
            prediction,
            reason=RULES_SKIP_LLM if outputs.get("method") == "rule_based" else NO_LLM_CONFIGURED,
        ),
    }


def conversion(
    prediction: Prediction,
    *,
    time_to_close: Prediction | None,
    settings: Settings,
    explain: bool = True,
) -> dict[str, Any]:
    days = days_of(time_to_close) if time_to_close is not None else None
    probability = float(prediction.probability or 0.0)
    body = _common(prediction, explain=explain)
    body.update(
        {
            "predictedValue": prediction.predicted_value,
            # Capped at 365 days; closesWithinYear says when the model's median is beyond.
            "predictedDays": None if days is None else days.median,
            "closesWithinYear": None if days is None else not days.capped,
            "predictedScoreLevel": score_level(
                probability, threshold=threshold_of(prediction), settings=settings
            ),
        }
    )
    if prediction.outputs.get("method") == "rule_based":
        body["ruleBased"] = {
            k: prediction.outputs.get(k) for k in ("points", "pointsByGroup", "rulesFired")
        }
    return body


def capped_explanation(
    text: str, *, days: Days, probability: float | None, outputs: dict[str, Any]
) -> str:
    """The narrative without its opening days sentence (which quotes the uncapped, absurd
    median), led by the capped statement instead; the drivers that follow are kept."""
    if text.startswith(DAYS_SENTENCE) and ". " in text:
        text = text.split(". ", 1)[1]
    chance = ""
    if probability is not None and outputs.get("horizonDays"):
        chance = (
            f" ({round(100 * probability)}% chance of closing within "
            f"{round(float(outputs['horizonDays']))} days)"
        )
    return (
        f"{UNLIKELY}: the model's median time to close is beyond {days.median} days{chance}. {text}"
    )


def time_to_close(prediction: Prediction, *, explain: bool = True) -> dict[str, Any]:
    days = days_of(prediction)
    body = _common(prediction, explain=explain)
    outputs = prediction.outputs or {}
    if days is None:
        body.update({"predictedDays": None, "confidenceInterval": None})
        return body
    text = body["explanation"]
    if days.capped and text is not None:
        text = capped_explanation(
            text, days=days, probability=prediction.probability, outputs=outputs
        )
    body.update(
        {
            "predictedDays": days.median,
            "confidenceInterval": {"low": days.low, "high": days.high},
            "closesWithinYear": not days.capped,
            "horizonDays": outputs.get("horizonDays"),
            "explanation": text,
        }
    )
    return body


def score(prediction: Prediction) -> dict[str, Any]:
    outputs = prediction.outputs or {}
    body = _common(prediction)
    body.update(
        {
            "predictedScore": int(prediction.predicted_value or 0),
            "scoreBreakdown": outputs.get("scoreBreakdown"),
            "contributionsByGroup": (prediction.contributions or {}).get("groups"),
        }
    )
    return body


def priority(prediction: Prediction) -> dict[str, Any]:
    outputs = prediction.outputs or {}
    body = _common(prediction)
    body.update(
        {
            "priorityScore": prediction.predicted_value,
            "priorityRank": outputs.get("priorityRank"),
            "priorityTier": outputs.get("priorityTier"),
            "rankedLeads": outputs.get("rankedLeads"),
        }
    )
    return body


def any_prediction(
    prediction: Prediction, *, settings: Settings, time_prediction: Prediction | None = None
) -> dict[str, Any]:
    kind = prediction.prediction_type
    if kind == PredictionType.TIME_TO_CLOSE:
        return time_to_close(prediction)
    if kind == PredictionType.SCORE:
        return score(prediction)
    if kind == PredictionType.PRIORITY:
        return priority(prediction)
    return conversion(prediction, time_to_close=time_prediction, settings=settings)


def is_expired(prediction: Prediction, now: datetime) -> bool:
    valid_until = prediction.valid_until
    if valid_until.tzinfo is None:
        valid_until = valid_until.replace(tzinfo=UTC)
    return prediction.status != PredictionStatus.ACTIVE or valid_until <= now


def ranked_lead(item: RankedLead, *, reasoner: Reasoner, settings: Settings) -> dict[str, Any]:
    """A ranked lead (ranked-leads, top-leads, leads-by-tier)."""
    lead = item.lead
    return {
        "leadId": lead.id,
        "email": lead.email,
        "name": lead.name,
        "company": lead.company,
        "title": lead.title,
        "score": item.score,
        "scoreLevel": score_level(
            item.probability, threshold=threshold_of(item.conversion), settings=settings
        ),
        "priorityRank": item.rank,
        "priorityTier": item.tier,
        "priorityScore": item.priority_score,
        "conversionProbability": item.probability,
        "predictedDays": item.days,
        "dealValue": lead.deal_value if lead.deal_value is not None else lead.budget,
        "predictionId": item.conversion.id,
        "reasoning": reasoner.reasoning(item.conversion),
    }
