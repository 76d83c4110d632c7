"""LLM wording of account answers (ADR 0011): churn explanation, primary drivers and
recommendation rationales; health explanation and recommendation rationales. Figures,
categories, risk factors, insights and anomalies stay as computed. Without an LLM configured
the answer is left exactly as the templates made it (llmMetadata: the templates')."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from propensity.db import Session
from propensity.llm.config import LlmConfig
from propensity.llm.facts import Facts, candidate_recommendations
from propensity.llm.stored import (
    prediction_contributions,
    reworded_recommendations,
    served_metadata,
    stored_or_worded,
)
from propensity.models import Prediction
from propensity.settings import Settings
from propensity.vocabulary import Population, PredictionType

CHURN_FIGURES = (
    "predictionType",
    "probability",
    "confidence",
    "predictionWindowDays",
    "riskCategory",
    "retentionProbability",
    "interventionUrgency",
)
HEALTH_FIGURES = (
    "predictionType",
    "confidence",
    "predictionWindowDays",
    "currentHealthScore",
    "predictedScore",
    "scoreTrajectory",
    "predictedRange",
)


def account_facts(session: Session, data: dict[str, Any], *, prediction: Prediction) -> Facts:
    health = prediction.prediction_type == PredictionType.HEALTH_TREND.value
    figures = HEALTH_FIGURES if health else CHURN_FIGURES
    context: list[str] = []
    if health:
        context = [str(i["message"]) for i in data.get("insights") or []]
        context += [str(a["description"]) for a in data.get("anomalies") or []]
        if data.get("strengthAreas"):
            context.append("Strength areas: " + ", ".join(data["strengthAreas"]))
        if data.get("riskAreas"):
            context.append("Risk areas: " + ", ".join(data["riskAreas"]))
    return Facts(
        task="health" if health else "churn",
        subject=Population.ACCOUNT.value,
        prediction={k: data.get(k) for k in figures},
        contributions=prediction_contributions(session, prediction, kind=Population.ACCOUNT.value),
        candidates=candidate_recommendations(data.get("recommendations") or []),
        context=context,
    )


def apply(data: dict[str, Any], entry: dict[str, Any], *, reused: bool) -> None:
    answer = entry.get("answer")
    data["llmMetadata"] = served_metadata(entry, reused=reused)
    if not isinstance(answer, dict):
        return
    data["explanation"] = answer["explanation"]
    if "primaryChurnDrivers" in answer:
        data["primaryChurnDrivers"] = [str(d["text"]) for d in answer["primaryChurnDrivers"]]
    data["recommendations"] = reworded_recommendations(
        data.get("recommendations") or [], answer["recommendations"]
    )


def word_account_answer(
    session: Session,
    data: dict[str, Any],
    *,
    prediction: Prediction,
    settings: Settings,
    now: datetime,
) -> bool:
    """Words `data` (a churn or health answer) in place when an LLM is configured: the text
    stored with the prediction, else a new call whose outcome is stored. Commits. True when
    the answer is as the next request would get it (no LLM, or its stored text reused)."""
    config = LlmConfig.from_settings(settings)
    if config is None:
        return True
    entry, reused = stored_or_worded(
        session,
        prediction,
        config=config,
        facts=lambda: account_facts(session, data, prediction=prediction),
        now=now,
    )
    apply(data, entry, reused=reused)
    return reused
