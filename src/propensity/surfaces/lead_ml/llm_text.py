"""LLM wording of lead answers (ADR 0011): a conversion prediction's explanation and
recommendation rationales, and ranked leads' reasoning and a summary of the top tier.
Probabilities, scores, levels, ranks and tiers stay as computed. Rule-based predictions
(`ruleBasedOnly`: "skip LLM") and answers without explanation are never sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from propensity.db import Session
from propensity.llm.config import LlmConfig
from propensity.llm.facts import Facts, candidate_recommendations
from propensity.llm.leads import ranking_wording
from propensity.llm.stored import (
    prediction_contributions,
    reworded_recommendations,
    served_metadata,
    stored_or_worded,
    stored_outcome,
)
from propensity.models import Prediction
from propensity.settings import Settings

LEAD_FIGURES = (
    "predictionType",
    "probability",
    "confidence",
    "predictedScoreLevel",
    "predictedDays",
    "closesWithinYear",
)
RANKED_FIGURES = ("topLeadCount", "avgConversionProbability", "commonPatterns", "rankedLeadCount")
LEAD_FIELDS = (
    "leadId",
    "priorityRank",
    "priorityTier",
    "score",
    "scoreLevel",
    "conversionProbability",
    "priorityScore",
    "predictedDays",
    "title",
    "company",
)
# Ranked answers are not stored with a prediction; the first this many leads are worded, the
# rest keep the template reasoning (the prompt stays small whatever the limit asked).
MAX_WORDED_LEADS = 10


def word_conversion_answer(
    session: Session,
    data: dict[str, Any],
    *,
    prediction: Prediction,
    settings: Settings,
    now: datetime,
) -> None:
    """Words a CONVERSION answer in place when an LLM is configured (the wording is stored
    with the prediction and committed by llm.stored)."""
    config = LlmConfig.from_settings(settings)
    if config is None or data.get("method") == "rule_based" or not data.get("explanation"):
        return
    entry, reused = stored_or_worded(
        session,
        prediction,
        config=config,
        facts=lambda: Facts(
            task="lead",
            subject="lead",
            prediction={k: data.get(k) for k in LEAD_FIGURES},
            contributions=prediction_contributions(session, prediction),
            candidates=candidate_recommendations(data.get("recommendations") or []),
        ),
        now=now,
    )
    _apply(data, entry, reused=reused)


def apply_stored(data: dict[str, Any], *, prediction: Prediction, settings: Settings) -> None:
    """The wording stored with a CONVERSION prediction, without a call (the latest-prediction
    endpoint reads; it never asks the LLM)."""
    config = LlmConfig.from_settings(settings)
    entry = stored_outcome(prediction, config) if config is not None else None
    if entry is not None and data.get("explanation"):
        _apply(data, entry, reused=True)


def _apply(data: dict[str, Any], entry: dict[str, Any], *, reused: bool) -> None:
    data["llmMetadata"] = served_metadata(entry, reused=reused)
    answer = entry.get("answer")
    if isinstance(answer, dict):
        data["explanation"] = answer["explanation"]
        data["recommendations"] = reworded_recommendations(
            data.get("recommendations") or [], answer["recommendations"]
        )


def word_ranking(
    session: Session, body: dict[str, Any], *, settings: Settings, now: datetime
) -> None:
    """Words a ranked-leads answer in place (useLLM with an LLM configured; llm.leads commits
    the day's usage). On failure the template reasoning stays and `llmFallback` says why."""
    config = LlmConfig.from_settings(settings)
    if config is None:
        return
    entries = body["rankings"][:MAX_WORDED_LEADS]
    facts = Facts(
        task="ranked",
        subject="lead_ranking",
        prediction={k: body["insights"].get(k) for k in RANKED_FIGURES},
        leads=[
            {**{k: e.get(k) for k in LEAD_FIELDS}, "templateReasoning": e.get("reasoning")}
            for e in entries
        ],
    )
    # Identical rankings (same leads, figures and reasoning) reuse their wording.
    outcome, reused = ranking_wording(session, config=config, facts=facts, now=now)
    metadata = served_metadata(outcome, reused=reused)
    answer = outcome["answer"]
    body["llmMetadata"] = {**metadata, "wordedLeads": len(entries) if answer else 0}
    if not isinstance(answer, dict):
        body["textSource"] = "template"
        body["llmFallback"] = metadata.get("fallbackReason")
        return
    reasoning = {int(item["leadId"]): str(item["reasoning"]) for item in answer["leads"]}
    for entry in entries:
        entry["reasoning"] = reasoning.get(int(entry["leadId"]), entry["reasoning"])
    body["insights"]["summary"] = answer["summary"]
    body["textSource"] = "llm"
    body.pop("llmFallback", None)
