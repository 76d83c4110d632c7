"""The LLM's outcome kept with the prediction it words, and put back into an answer.

A prediction's outcome (the checked answer, or None, and its llmMetadata) is stored in its
`outputs["llm"]` the first time the prediction is served with an LLM configured, so a cached
answer repeats the same text without another call; a fresh prediction (forceRefresh, a new
model, expiry) is worded afresh. Failures that reached the server are stored too, so a
cached answer does not wait on a failing server on every request; a call the daily budget
refused is not (the next request may fit tomorrow's budget). The stored `explanation` column
keeps the template text: listings, CTAs and webhooks read it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from propensity.llm.config import LlmConfig
from propensity.llm.facts import ContributionFact, Facts, contribution_facts
from propensity.llm.service import NO_LLM_CONFIGURED, Worded, template_metadata, word
from propensity.models import ModelVersion, Prediction

KEY = "llm"


def stored_outcome(prediction: Prediction, config: LlmConfig) -> dict[str, Any] | None:
    """The outcome stored for this prediction by the configured model, if any."""
    entry = (prediction.outputs or {}).get(KEY)
    if isinstance(entry, dict) and entry.get("model") == config.model:
        return entry
    return None


def remember(prediction: Prediction, *, config: LlmConfig, worded: Worded) -> dict[str, Any]:
    """Stores the outcome on the prediction (the caller commits) and returns it."""
    entry = {"model": config.model, "answer": worded.answer, "metadata": worded.metadata}
    if worded.attempted:
        # A new dict: the JSON column sees a changed value, not an in-place mutation.
        prediction.outputs = {**(prediction.outputs or {}), KEY: entry}
    return entry


def stored_or_worded(
    session: Session,
    prediction: Prediction,
    *,
    config: LlmConfig,
    facts: Callable[[], Facts],
    now: datetime,
) -> tuple[dict[str, Any], bool]:
    """The outcome stored with the prediction (True: reused), else a new call's, stored with
    it and committed (False). `facts` is only built when a call is needed."""
    entry = stored_outcome(prediction, config)
    if entry is not None:
        return entry, True
    entry = remember(
        prediction, config=config, worded=word(session, config=config, facts=facts(), now=now)
    )
    session.commit()
    return entry, False


def served_metadata(entry: Mapping[str, Any], *, reused: bool) -> dict[str, Any]:
    """The llmMetadata of an answer; `reused` says the text was stored with the prediction
    (its tokens, latency and cost are those of the original call, not of this request)."""
    return {**dict(entry.get("metadata") or {}), "reused": reused}


def template_outcome(prediction: Prediction, *, reason: str = NO_LLM_CONFIGURED) -> dict[str, Any]:
    """The llmMetadata of a prediction's template text (no LLM asked): the time the prediction
    and its text took (its recorded latency) and when they were made."""
    return template_metadata(
        latency_ms=prediction.latency_ms, reason=reason, generated_at=prediction.predicted_at
    )


def reworded_recommendations(
    candidates: Sequence[Mapping[str, Any]], worded: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The candidates in their computed order, with priority, timeframe and expected impact
    as computed and the LLM's rationale."""
    rationale = {str(item["action"]).strip(): str(item["rationale"]) for item in worded}
    out = []
    for candidate in candidates:
        item = dict(candidate)
        text = rationale.get(str(candidate.get("action")))
        if text is not None:
            item["rationale"] = text
        out.append(item)
    return out


def prediction_contributions(
    session: Session, prediction: Prediction, *, kind: str | None = None
) -> list[ContributionFact]:
    """The prediction's stored top contributions with the entity's values, worded by the
    template narrative of the model version that made it (its definitions and statistics)."""
    stored = prediction.contributions or {}
    features = stored.get("features") or {}
    if not features:
        return []
    version = (
        session.get(ModelVersion, prediction.model_version_id)
        if prediction.model_version_id is not None
        else None
    )
    outputs = prediction.outputs or {}
    threshold = outputs.get("threshold")
    return contribution_facts(
        prediction_type=prediction.prediction_type,
        contributions=features,
        values=stored.get("values") or {},
        feature_specs=(version.feature_specs or []) if version is not None else (),
        feature_stats=(version.feature_stats or {}) if version is not None else None,
        probability=prediction.probability,
        predicted_value=prediction.predicted_value,
        threshold=float(threshold)
        if isinstance(threshold, int | float)
        else (version.threshold if version is not None else None),
        horizon_days=version.horizon_days if version is not None else None,
        kind=kind,
    )
