"""Per-configuration endpoints (`/:configId/ml/...`): bulk prediction, ranking, tiers,
accuracy and feature importance. `configId` is a LeadScoringConfig of the caller's tenant."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from propensity.db import utcnow
from propensity.predictions.lead_accuracy import config_accuracy
from propensity.serving import serving_models
from propensity.serving.lead_ranking import Reasoner, rank_config
from propensity.serving.leads import LEAD
from propensity.surfaces.lead_ml import bulk, insights, params, payloads, quotas
from propensity.surfaces.lead_ml.context import ReadContext, WriteContext
from propensity.vocabulary import PredictionType

router = APIRouter()
MAX_LISTED = 500


class BulkBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    limit: int = Field(default=50, ge=1, le=MAX_LISTED)
    minScore: float = Field(default=0, ge=0, le=100)  # noqa: N815 - the document's names
    forceRefresh: bool = False  # noqa: N815
    ruleBasedOnly: bool = False  # noqa: N815


@router.post("/{config_id}/ml/bulk-predict")
def bulk_predict(
    config_id: str,
    request: Request,
    response: Response,
    ctx: WriteContext,
    body: BulkBody | None = None,
) -> dict[str, Any]:
    options = body or BulkBody()
    config = params.get_config(ctx.session, config_id)
    with params.rules_offered():
        return bulk.bulk_predict(
            ctx.session,
            config=config,
            limit=options.limit,
            min_score=options.minScore,
            force=options.forceRefresh,
            rule_based=options.ruleBasedOnly,
            settings=ctx.settings,
            now=utcnow(),
            spend=lambda: quotas.spend(request, ctx, response=response),
        )


@router.get("/{config_id}/ml/ranked-leads")
def ranked_leads(
    config_id: str,
    ctx: ReadContext,
    limit: Annotated[int, Query(ge=1, le=MAX_LISTED)] = 20,
    minScore: Annotated[float, Query(ge=0, le=100)] = 0,  # noqa: N803
    minProbability: Annotated[float, Query(ge=0, le=1)] = 0,  # noqa: N803
    useLLM: Annotated[bool, Query()] = True,  # noqa: N803
) -> dict[str, Any]:
    config = params.get_config(ctx.session, config_id)
    return insights.ranked(
        ctx.session,
        config=config,
        limit=limit,
        min_score=minScore,
        min_probability=minProbability,
        use_llm=useLLM,
        settings=ctx.settings,
        now=utcnow(),
    )


@router.get("/{config_id}/ml/top-leads")
def top_leads(
    config_id: str, ctx: ReadContext, n: Annotated[int, Query(ge=1, le=MAX_LISTED)] = 10
) -> dict[str, Any]:
    config = params.get_config(ctx.session, config_id)
    ranked = rank_config(ctx.session, config_id=config.id, now=utcnow(), settings=ctx.settings)
    reasoner = Reasoner(ctx.session)
    return {
        "leads": [
            payloads.ranked_lead(r, reasoner=reasoner, settings=ctx.settings)
            for r in ranked.leads[:n]
        ]
    }


@router.get("/{config_id}/ml/leads-by-tier")
def leads_by_tier(
    config_id: str,
    ctx: ReadContext,
    tier: Annotated[str | None, Query(description="top, high, medium or low")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LISTED)] = MAX_LISTED,
) -> dict[str, Any]:
    chosen = params.parse_tier(tier)
    config = params.get_config(ctx.session, config_id)
    ranked = rank_config(ctx.session, config_id=config.id, now=utcnow(), settings=ctx.settings)
    reasoner = Reasoner(ctx.session)
    in_tier = [r for r in ranked.leads if r.tier == chosen]
    return {
        "tier": chosen,
        "count": len(in_tier),
        "leads": [
            payloads.ranked_lead(r, reasoner=reasoner, settings=ctx.settings)
            for r in in_tier[:limit]
        ],
    }


@router.get("/{config_id}/ml/accuracy")
def accuracy(
    config_id: str,
    ctx: ReadContext,
    startDate: Annotated[str | None, Query()] = None,  # noqa: N803
    endDate: Annotated[str | None, Query()] = None,  # noqa: N803
) -> dict[str, Any]:
    """Judges the configuration's expired predictions whose outcome is now known first (the
    judgement only records facts already in the data), then counts."""
    start, end = insights.parse_period(startDate, endDate)
    config = params.get_config(ctx.session, config_id)
    counts = config_accuracy(ctx.session, config_id=config.id, start=start, end=end, now=utcnow())
    return insights.accuracy(counts)


@router.get("/{config_id}/ml/feature-importance")
def feature_importance(config_id: str, ctx: ReadContext) -> dict[str, Any]:
    """The active CONVERSION model's global importance (503 when none is trained)."""
    params.get_config(ctx.session, config_id)
    models = serving_models(ctx.session, prediction_type=PredictionType.CONVERSION, population=LEAD)
    return {"importance": insights.feature_importance(models.active)}
