"""One lead's CONVERSION score by a chosen model: which model, the score cache, fresh scoring
with its measured time, and the scoring timeout of the tenant's ML configuration.

Cache rule (spec "ML scores are cached"): a stored prediction is reused when caching is
enabled in the tenant's ML config and it is ACTIVE, inside its validity, made by the requested
model, and made at most `scoring.caching.ttl` seconds ago. A TTL of 0, `refresh=true`, or an
explanation asked of a row stored without one (the batch job explains only flagged leads)
makes a fresh prediction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.errors import InvalidInput, NotFound, PropensityError, Unavailable
from propensity.mlconfig import MlConfig
from propensity.modeling import load_model
from propensity.models import Lead, ModelStatus, ModelVersion, Prediction, PredictionStatus
from propensity.predictions.scoring import (
    ScoringRun,
    model_frame,
    score_frame,
)
from propensity.predictions.service import record_run
from propensity.registry.service import active_version, artifact_cache
from propensity.serving import serving_models
from propensity.settings import Settings
from propensity.vocabulary import PredictionType

PREDICTION_TYPE = "CONVERSION"
POPULATION = "lead"
# Statuses whose artifact can score: a model still training or that failed has none.
SCORABLE = (ModelStatus.ACTIVE.value, ModelStatus.INACTIVE.value, ModelStatus.RETIRED.value)


class PredictionTimeout(PropensityError):
    status_code = 504
    code = "PREDICTION_TIMEOUT"


def parse_lead_id(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise InvalidInput(
            f"Invalid lead ID '{raw}': a lead ID is a positive integer",
            code="VALIDATION_ERROR",
            details={"leadId": raw},
        )
    return value


def get_lead(session: Session, raw_id: str) -> Lead:
    lead_id = parse_lead_id(raw_id)
    # The tenant session scopes the lookup: another tenant's lead is not found either.
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFound("Lead not found", code="LEAD_NOT_FOUND", details={"leadId": lead_id})
    return lead


def model_label(version: ModelVersion) -> str:
    return f"v{version.version_number}"


def active_conversion_model(session: Session) -> ModelVersion | None:
    return active_version(session, prediction_type=PREDICTION_TYPE, population=POPULATION)


def resolve_model(session: Session, requested: str | None) -> ModelVersion:
    """The tenant's CONVERSION lead model named by `requested` (its id, or "vN"), or the
    active one when None. Unknown: 404 MODEL_NOT_FOUND; no model trained: 503."""
    if requested is None or not requested.strip():
        version = active_conversion_model(session)
        if version is None:
            raise Unavailable(
                "No CONVERSION model is trained for this tenant's leads yet",
                code="MODEL_UNAVAILABLE",
                details={
                    "predictionType": PREDICTION_TYPE,
                    "hint": "train one (`propensity train CONVERSION --tenant <tenant>`), "
                    "or score with the rule-based scorer at "
                    "/api/lead-scoring/leads/{id}/ml/predict with ruleBasedOnly: true",
                },
            )
        return version
    text = requested.strip()
    query = sa.select(ModelVersion).where(
        ModelVersion.prediction_type == PREDICTION_TYPE,
        ModelVersion.population == POPULATION,
        ModelVersion.status.in_(SCORABLE),
    )
    number = text[1:] if text[:1] in ("v", "V") else None
    if number is not None and number.isdigit():
        query = query.where(ModelVersion.version_number == int(number))
    elif text.isdigit():
        query = query.where(ModelVersion.id == int(text))
    else:
        query = query.where(sa.false())
    version = session.scalars(query.limit(1)).first()
    if version is None:
        raise NotFound(
            "ML model not found",
            code="MODEL_NOT_FOUND",
            details={
                "modelId": text,
                "hint": "Give a CONVERSION lead model's id or its version as vN",
            },
        )
    return version


def cached_prediction(
    session: Session, *, lead_id: int, version: ModelVersion, config: MlConfig, now: datetime
) -> Prediction | None:
    caching = config.scoring.caching
    if not caching.enabled or caching.ttl <= 0:
        return None
    return session.scalars(
        sa.select(Prediction)
        .where(
            Prediction.lead_id == lead_id,
            Prediction.prediction_type == PREDICTION_TYPE,
            Prediction.model_version_id == version.id,
            Prediction.status == PredictionStatus.ACTIVE.value,
            Prediction.valid_until > now,
            Prediction.predicted_at >= now - timedelta(seconds=caching.ttl),
        )
        .order_by(Prediction.predicted_at.desc(), Prediction.id.desc())
        .limit(1)
    ).first()


def has_explanation(prediction: Prediction) -> bool:
    return bool((prediction.contributions or {}).get("features"))


def check_timeout(*, elapsed_ms: float, timeout_ms: int, model_id: int) -> None:
    """The document's PREDICTION_TIMEOUT when scoring took longer than the configured
    `scoring.timeout`. Measured after the fact: a scoring thread is never killed midway."""
    if elapsed_ms > timeout_ms:
        raise PredictionTimeout(
            "ML prediction timed out",
            details={
                "timeout": timeout_ms,
                "modelId": str(model_id),
                "elapsedMs": round(elapsed_ms),
            },
        )


def score_fresh(
    session: Session,
    *,
    lead_id: int,
    version: ModelVersion,
    settings: Settings,
    now: datetime,
    served_as: str | None = None,
) -> tuple[Prediction, float]:
    """Scores the lead with `version`, stores the prediction (superseding the lead's older
    ACTIVE CONVERSION ones) and returns it with the measured scoring time in ms. Flushes.
    `served_as` records the deployment role ("champion" or "challenger") when routed."""
    started = time.perf_counter()
    model = artifact_cache.get(session, version=version, loader=load_model)
    frame = model_frame(session, version=version, model=model, entity_ids=[lead_id], as_of=now)
    results = score_frame(model=model, version=version, frame=frame)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if not results:
        raise Unavailable(
            "The lead could not be scored: it has no features at this time",
            code="PREDICTION_FAILED",
            details={"leadId": lead_id, "modelId": str(version.id)},
        )
    if served_as is not None:
        served_by = served_as
    elif version.status != ModelStatus.ACTIVE.value:
        served_by = "requested"  # record_run would mark the rows as the champion's
    else:
        served_by = None
    if served_by is not None:
        results = [replace(r, served_by=served_by) for r in results]
    record_run(
        session,
        run=ScoringRun(version=version, as_of=now, results=results),
        settings=settings,
        latency_ms=round(elapsed_ms, 3),
    )
    stored = session.scalars(
        sa.select(Prediction)
        .where(
            Prediction.lead_id == lead_id,
            Prediction.prediction_type == PREDICTION_TYPE,
            Prediction.model_version_id == version.id,
            Prediction.predicted_at == now,
        )
        .order_by(Prediction.id.desc())
        .limit(1)
    ).one()
    return stored, elapsed_ms


@dataclass(frozen=True)
class ScoreResult:
    prediction: Prediction
    version: ModelVersion
    cached: bool
    elapsed_ms: float


def lead_score(
    session: Session,
    *,
    lead: Lead,
    requested_model: str | None,
    refresh: bool,
    explain: bool,
    config: MlConfig,
    settings: Settings,
    now: datetime,
) -> ScoreResult:
    started = time.perf_counter()
    version = resolve_model(session, requested_model)
    served_as: str | None = None
    if requested_model is None or not requested_model.strip():
        # A running champion/challenger deployment decides, lead by lead (ADR 0008).
        version, served_as = serving_models(
            session, prediction_type=PredictionType.CONVERSION, population=POPULATION
        ).for_entity(lead.id)
    if not refresh:
        cached = cached_prediction(
            session, lead_id=lead.id, version=version, config=config, now=now
        )
        if cached is not None and (has_explanation(cached) or not explain):
            return ScoreResult(cached, version, True, (time.perf_counter() - started) * 1000)
    prediction, elapsed_ms = score_fresh(
        session, lead_id=lead.id, version=version, settings=settings, now=now, served_as=served_as
    )
    check_timeout(elapsed_ms=elapsed_ms, timeout_ms=config.scoring.timeout, model_id=version.id)
    return ScoreResult(prediction, version, False, elapsed_ms)
