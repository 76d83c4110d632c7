"""Portfolio-level queries: the riskiest accounts, batch selections, CTA candidates, status.

priorityFilter (batch-predict) selects which accounts a batch scores:
    high_risk    accounts whose current churn prediction is high or critical
    renewal_due  accounts renewing within the next 90 days
    new          accounts created within the last 90 days
    unscored     accounts without a valid prediction of the requested type
Without a filter the batch scores the accounts whose prediction is missing or oldest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.ctas.service import CtaOutcome, generate_cta
from propensity.errors import InvalidInput
from propensity.llm.status import llm_status
from propensity.models import Customer, ModelStatus, ModelVersion, Prediction, PredictionStatus
from propensity.narratives.risk import RiskCutoffs
from propensity.settings import Settings
from propensity.surfaces.customer_success.accounts import ACCOUNT_TYPES, POPULATION
from propensity.timefmt import iso_z

PRIORITY_FILTERS = ("high_risk", "renewal_due", "new", "unscored")
SEGMENT_DAYS = 90
# generate-ctas looks at most this many candidates per CTA wanted, so a portfolio full of
# accounts in cooldown answers quickly instead of walking every account.
CANDIDATES_PER_CTA = 5
# A declining health forecast at least this many points below today's score is a candidate
# for a CTA (the trajectory rule's 3 points is too small a move to act on).
HEALTH_CTA_DROP = 5.0


def _valid(prediction_type: str, now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        Prediction.prediction_type == prediction_type,
        Prediction.status == PredictionStatus.ACTIVE.value,
        Prediction.valid_until > now,
    )


@dataclass(frozen=True)
class RiskyAccount:
    account: Customer
    prediction: Prediction


def high_risk(
    session: Session, *, min_probability: float, limit: int, now: datetime
) -> tuple[list[RiskyAccount], int]:
    """Accounts with a valid churn prediction >= min_probability, riskiest first; and how many
    there are in all."""
    where = (
        _valid("CHURN", now),
        Prediction.probability >= min_probability,
        Customer.kind == POPULATION,
    )
    total = int(
        session.scalar(
            sa.select(sa.func.count(Prediction.id))
            .join(Customer, Customer.id == Prediction.customer_id)
            .where(*where)
        )
        or 0
    )
    rows = session.execute(
        sa.select(Customer, Prediction)
        .join(Prediction, Prediction.customer_id == Customer.id)
        .where(*where)
        .order_by(Prediction.probability.desc(), Customer.id)
        .limit(limit)
    ).all()
    return [RiskyAccount(account=a, prediction=p) for a, p in rows], total


def parse_priority_filter(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    text = value.strip().lower().replace("-", "_")
    if text not in PRIORITY_FILTERS:
        raise InvalidInput(
            f"Unknown priorityFilter '{value}'; use one of: {', '.join(PRIORITY_FILTERS)}",
            code="INVALID_PRIORITY_FILTER",
            details={"allowed": list(PRIORITY_FILTERS)},
        )
    return text


def select_accounts(
    session: Session,
    *,
    priority_filter: str,
    prediction_type: str,
    limit: int,
    settings: Settings,
    now: datetime,
) -> list[int]:
    """Account ids in the priority segment, at most `limit`, the most pressing first."""
    accounts = sa.select(Customer.id).where(Customer.kind == POPULATION)
    if priority_filter == "high_risk":
        version = session.scalars(
            sa.select(ModelVersion).where(
                ModelVersion.prediction_type == "CHURN",
                ModelVersion.population == POPULATION,
                ModelVersion.status == ModelStatus.ACTIVE.value,
            )
        ).first()
        cutoffs = RiskCutoffs.of(
            threshold=version.threshold if version else None, settings=settings
        )
        query = (
            accounts.join(Prediction, Prediction.customer_id == Customer.id)
            .where(_valid("CHURN", now), Prediction.probability >= cutoffs.high)
            .order_by(Prediction.probability.desc())
        )
    elif priority_filter == "renewal_due":
        today = now.date()
        query = accounts.where(
            Customer.renewal_date >= today,
            Customer.renewal_date <= today + timedelta(days=SEGMENT_DAYS),
        ).order_by(Customer.renewal_date)
    elif priority_filter == "new":
        query = accounts.where(Customer.created_at >= now - timedelta(days=SEGMENT_DAYS)).order_by(
            Customer.created_at.desc()
        )
    else:
        scored = sa.select(Prediction.customer_id).where(
            _valid(prediction_type, now), Prediction.customer_id.is_not(None)
        )
        query = accounts.where(Customer.id.not_in(scored)).order_by(Customer.id)
    return [int(i) for i in session.scalars(query.limit(limit)).all()]


def cta_candidates(
    session: Session, *, prediction_type: str, limit: int, now: datetime
) -> list[tuple[Customer, Prediction, float | None]]:
    """(account, prediction, its model's threshold) most at risk first: churn predictions at or
    above their model's threshold; health forecasts HEALTH_CTA_DROP points or more below the
    current score."""
    query = (
        sa.select(Customer, Prediction, ModelVersion.threshold)
        .join(Prediction, Prediction.customer_id == Customer.id)
        .outerjoin(ModelVersion, ModelVersion.id == Prediction.model_version_id)
        .where(_valid(prediction_type, now), Customer.kind == POPULATION)
    )
    if prediction_type == "CHURN":
        query = query.where(
            Prediction.probability >= sa.func.coalesce(ModelVersion.threshold, 0.5)
        ).order_by(Prediction.probability.desc(), Customer.id)
        return [(a, p, t) for a, p, t in session.execute(query.limit(limit)).all()]
    rows = session.execute(query).all()
    drops = []
    for account, prediction, threshold in rows:
        current = (prediction.outputs or {}).get("currentScore")
        if current is None or prediction.predicted_value is None:
            continue
        drop = float(current) - float(prediction.predicted_value)
        if drop >= HEALTH_CTA_DROP:
            drops.append((drop, account.id, account, prediction, threshold))
    drops.sort(key=lambda d: (-d[0], d[1]))
    return [(a, p, t) for _, _, a, p, t in drops[:limit]]


def generate_ctas(
    session: Session,
    *,
    prediction_type: str,
    max_ctas: int,
    user_id: int | None,
    now: datetime,
    cooldown_days: int,
) -> list[CtaOutcome]:
    """CTAs for the accounts most at risk, until `max_ctas` are created; the skipped ones
    (duplicate, cooldown, nothing to act on) are reported with their reason. Flushes."""
    outcomes: list[CtaOutcome] = []
    created = 0
    candidates = cta_candidates(
        session, prediction_type=prediction_type, limit=max_ctas * CANDIDATES_PER_CTA, now=now
    )
    for account, prediction, threshold in candidates:
        if created >= max_ctas:
            break
        outcome = generate_cta(
            session,
            customer=account,
            prediction=prediction,
            threshold=threshold,
            user_id=user_id,
            now=now,
            cooldown_days=cooldown_days,
        )
        created += int(outcome.was_created)
        outcomes.append(outcome)
    return outcomes


def status(session: Session, *, settings: Settings, now: datetime) -> dict[str, Any]:
    """The document's available/message are about the ML models (ADR 0006): predictions
    never need the LLM. The LLM is reported apart, under `llm`; the document's "OpenAI API
    key not configured" wording belongs there."""
    llm = llm_status(session, settings=settings, now=now)
    versions = session.scalars(
        sa.select(ModelVersion)
        .where(
            ModelVersion.population == POPULATION,
            ModelVersion.prediction_type.in_(ACCOUNT_TYPES),
            ModelVersion.status == ModelStatus.ACTIVE.value,
        )
        .order_by(ModelVersion.prediction_type)
    ).all()
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
    if not versions:
        return {
            "available": False,
            "message": "ML service unavailable - no churn or health model is trained for "
            "this tenant's accounts yet",
            "models": [],
            "llm": llm,
        }
    missing = sorted(set(ACCOUNT_TYPES) - {v.prediction_type for v in versions})
    message = "ML service is available"
    if missing:
        message += f" ({', '.join(missing)} not trained yet)"
    return {"available": True, "message": message, "models": models, "llm": llm}
