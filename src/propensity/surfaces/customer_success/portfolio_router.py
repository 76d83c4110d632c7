"""Portfolio-level endpoints of spec/customer-success-ml.md (`/portfolio/ml/...`).

Beyond the document: batch-predict really runs, as a job (`jobId`, progress at
`GET /api/v1/jobs/{jobId}`); accuracy adds Brier score and AUC; status lists the models.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from propensity.ctas.candidates import generate_portfolio_ctas
from propensity.ctas.service import cta_stats
from propensity.db import utcnow
from propensity.llm.status import llm_status
from propensity.portfolio import accounts as portfolio
from propensity.predictions.validation import accuracy_report
from propensity.surfaces.customer_success import payloads, quotas
from propensity.surfaces.customer_success.accounts import (
    POPULATION,
    parse_prediction_type,
    require_models,
)
from propensity.surfaces.customer_success.context import ReadContext, WriteContext
from propensity.surfaces.customer_success.ctas import outcome_json
from propensity.timefmt import iso_z
from propensity.vocabulary import ACCOUNT_TYPES

router = APIRouter(prefix="/portfolio/ml")
MAX_BATCH_ACCOUNTS = 1_000_000
MAX_CTAS = 500


class BatchPredictRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    predictionType: Any = None  # noqa: N815 - the document's field names
    maxAccounts: int = Field(default=50, ge=1, le=MAX_BATCH_ACCOUNTS)  # noqa: N815
    priorityFilter: str | None = None  # noqa: N815


class GenerateCtasRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    predictionType: Any = None  # noqa: N815
    maxCTAs: int = Field(default=20, ge=1, le=MAX_CTAS)  # noqa: N815


@router.get("/high-risk")
def high_risk(
    ctx: ReadContext,
    minProbability: Annotated[float, Query(ge=0, le=1)] = 0.6,  # noqa: N803
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    rows, total = portfolio.high_risk(
        ctx.session, min_probability=minProbability, limit=limit, now=utcnow()
    )
    return {
        "data": [
            {
                "account": payloads.account_summary(r.account),
                "prediction": {
                    "id": r.prediction.id,
                    "probability": r.prediction.probability,
                    "confidence": r.prediction.confidence,
                    "explanation": r.prediction.explanation,
                    "predictedAt": iso_z(r.prediction.predicted_at),
                },
            }
            for r in rows
        ],
        "count": len(rows),
        "total": total,
    }


@router.post("/batch-predict", status_code=202)
def batch_predict(body: BatchPredictRequest, request: Request, ctx: WriteContext) -> JSONResponse:
    prediction_type = parse_prediction_type(body.predictionType)
    priority = portfolio.parse_priority_filter(body.priorityFilter)
    session = ctx.session
    require_models(session, prediction_type)
    quotas.spend(request, ctx, quotas.BATCH)
    selected: list[int] | None = None
    if priority is not None:
        selected = portfolio.select_accounts(
            session,
            priority_filter=priority,
            prediction_type=prediction_type,
            limit=body.maxAccounts,
            settings=ctx.settings,
            now=utcnow(),
        )
    job = portfolio.queue_account_scoring(
        session,
        prediction_type=prediction_type,
        entity_ids=selected,
        max_entities=body.maxAccounts,
        user_id=ctx.user_id,
    )
    return JSONResponse(
        {
            "message": "Batch prediction queued",
            "predictionType": prediction_type.value,
            "maxAccounts": body.maxAccounts,
            "priorityFilter": priority,
            "selectedAccounts": None if selected is None else len(selected),
            "jobId": job.id,
            "statusUrl": f"/api/v1/jobs/{job.id}",
            "note": "Scoring runs as a background job; poll statusUrl for its progress",
        },
        status_code=202,
    )


@router.post("/generate-ctas")
def generate_ctas(body: GenerateCtasRequest, request: Request, ctx: WriteContext) -> dict[str, Any]:
    prediction_type = parse_prediction_type(body.predictionType)
    quotas.spend(request, ctx, quotas.CTA)
    outcomes = generate_portfolio_ctas(
        ctx.session,
        prediction_type=prediction_type,
        max_ctas=body.maxCTAs,
        user_id=ctx.user_id,
        now=utcnow(),
        cooldown_days=ctx.settings.cta_cooldown_days,
    )
    generated = sum(1 for o in outcomes if o.was_created)
    return {
        "generated": generated,
        "skipped": len(outcomes) - generated,
        "results": [outcome_json(o) for o in outcomes],
    }


@router.post("/validate-predictions")
def validate_predictions(ctx: WriteContext) -> dict[str, Any]:
    judged = portfolio.validate_account_predictions(
        ctx.session, now=utcnow(), tolerance_points=ctx.settings.health_tolerance_points
    )
    return {"validated": judged, "message": f"Validated {judged} expired predictions"}


@router.get("/accuracy")
def accuracy(
    ctx: ReadContext,
    predictionType: Annotated[str | None, Query()] = None,  # noqa: N803
) -> dict[str, Any]:
    ptype = parse_prediction_type(predictionType).value if predictionType is not None else None
    report = accuracy_report(ctx.session, prediction_type=ptype, kind=POPULATION)
    report["healthTolerancePoints"] = ctx.settings.health_tolerance_points
    return {"data": report}


@router.get("/cta-stats")
def stats(ctx: ReadContext) -> dict[str, Any]:
    return {"data": dict(cta_stats(ctx.session))}


@router.get("/status")
def ml_status(ctx: ReadContext) -> dict[str, Any]:
    """The document's available/message are about the ML models (ADR 0006): predictions
    never need the LLM. The LLM is reported apart, under `llm`; the document's "OpenAI API
    key not configured" wording belongs there."""
    llm = llm_status(ctx.session, settings=ctx.settings, now=utcnow())
    versions = portfolio.account_models(ctx.session)
    if not versions:
        return {
            "available": False,
            "message": "ML service unavailable - no churn or health model is trained for "
            "this tenant's accounts yet",
            "models": [],
            "llm": llm,
        }
    models = [
        {
            "predictionType": v.prediction_type,
            "version": f"v{v.version_number}",
            "algorithm": v.algorithm,
            "trainedAt": iso_z(v.trained_at) if v.trained_at else None,
            # Held-out quality: ROC AUC for churn, mean absolute error (points) for health.
            "heldOutAuc": (v.metrics or {}).get("roc_auc"),
            "heldOutMae": (v.metrics or {}).get("mae"),
        }
        for v in versions
    ]
    trained = {v.prediction_type for v in versions}
    missing = [t.value for t in ACCOUNT_TYPES if t.value not in trained]
    message = "ML service is available"
    if missing:
        message += f" ({', '.join(missing)} not trained yet)"
    return {"available": True, "message": message, "models": models, "llm": llm}
