"""The customer-success portfolio of B2B accounts: the riskiest accounts now, the accounts a
batch scores first, queuing that batch, judging the expired predictions against what
happened, and the account models in service.

An account's current prediction is the serving package's (serving.service.current_many:
ACTIVE, unexpired and by the model that serves the account now), so a prediction made by one
account's request or by a batch job counts the same here.

priorityFilter (batch-predict) selects which accounts a batch scores:
    high_risk    accounts whose current churn prediction is high or critical (the active
                 churn model's cut-offs, narratives.risk.RiskCutoffs)
    renewal_due  accounts renewing within the next 90 days
    new          accounts created within the last 90 days
    unscored     accounts without a current prediction of the requested type
Without a filter the batch job scores the accounts whose prediction is missing or oldest first
(predictions.batch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.errors import InvalidInput
from propensity.jobs import Job, enqueue_job
from propensity.models import Customer, ModelVersion, Prediction, PredictionStatus
from propensity.narratives.risk import RiskCutoffs
from propensity.predictions.tasks import SCORE_PORTFOLIO
from propensity.predictions.validation import validate_expired
from propensity.registry.service import active_version
from propensity.serving.service import current_many
from propensity.settings import Settings
from propensity.vocabulary import ACCOUNT_TYPES, Population, PredictionType

ACCOUNT = Population.ACCOUNT.value
CHURN = PredictionType.CHURN
PRIORITY_FILTERS = ("high_risk", "renewal_due", "new", "unscored")
SEGMENT_DAYS = 90


@dataclass(frozen=True)
class RiskyAccount:
    account: Customer
    prediction: Prediction


def _accounts(session: Session, ids: Sequence[int]) -> dict[int, Customer]:
    if not ids:
        return {}
    rows = session.scalars(
        sa.select(Customer).where(Customer.id.in_(list(ids)), Customer.kind == ACCOUNT)
    )
    return {account.id: account for account in rows}


def high_risk(
    session: Session, *, min_probability: float, limit: int, now: datetime
) -> tuple[list[RiskyAccount], int]:
    """Accounts whose current churn prediction is >= min_probability, riskiest first (ties by
    account id), at most `limit`; and how many there are in all. For the portfolio's
    high-risk list and the high_risk batch segment."""
    # SQL narrows to the accounts with such an ACTIVE prediction; serving decides which of
    # those predictions are still the accounts' answers.
    candidates = session.scalars(
        sa.select(Prediction.customer_id)
        .join(Customer, Customer.id == Prediction.customer_id)
        .where(
            Customer.kind == ACCOUNT,
            Prediction.prediction_type == CHURN.value,
            Prediction.status == PredictionStatus.ACTIVE.value,
            Prediction.probability >= min_probability,
        )
    ).all()
    current = current_many(
        session,
        prediction_type=CHURN,
        population=Population.ACCOUNT.value,
        entity_ids=[int(i) for i in candidates if i],
        now=now,
    )
    risky = sorted(
        (
            served.prediction
            for served in current.values()
            if served.prediction.probability is not None
            and served.prediction.probability >= min_probability
        ),
        key=lambda p: (-float(p.probability or 0.0), int(p.customer_id or 0)),
    )
    page = risky[:limit]
    accounts = _accounts(session, [int(p.customer_id or 0) for p in page])
    return [RiskyAccount(accounts[int(p.customer_id or 0)], p) for p in page], len(risky)


def parse_priority_filter(value: str | None) -> str | None:
    """One of PRIORITY_FILTERS ("renewal-due" reads as renewal_due); None when not given."""
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
    prediction_type: PredictionType,
    limit: int,
    settings: Settings,
    now: datetime,
) -> list[int]:
    """Account ids in the priority segment, at most `limit`, the most pressing first: what
    a filtered batch-predict scores."""
    accounts = sa.select(Customer.id).where(Customer.kind == ACCOUNT)
    if priority_filter == "high_risk":
        model = active_version(session, prediction_type=CHURN.value, population=ACCOUNT)
        cutoffs = RiskCutoffs.of(threshold=model.threshold if model else None, settings=settings)
        rows, _ = high_risk(session, min_probability=cutoffs.high, limit=limit, now=now)
        return [r.account.id for r in rows]
    if priority_filter == "unscored":
        ids = [int(i) for i in session.scalars(accounts.order_by(Customer.id))]
        scored = current_many(
            session,
            prediction_type=prediction_type,
            population=Population.ACCOUNT.value,
            entity_ids=ids,
            now=now,
            light=True,
        )
        return [i for i in ids if i not in scored][:limit]
    if priority_filter == "renewal_due":
        today = now.date()
        query = accounts.where(
            Customer.renewal_date >= today,
            Customer.renewal_date <= today + timedelta(days=SEGMENT_DAYS),
        ).order_by(Customer.renewal_date)
    else:
        query = accounts.where(Customer.created_at >= now - timedelta(days=SEGMENT_DAYS)).order_by(
            Customer.created_at.desc()
        )
    return [int(i) for i in session.scalars(query.limit(limit)).all()]


def queue_account_scoring(
    session: Session,
    *,
    prediction_type: PredictionType,
    entity_ids: Sequence[int] | None,
    max_entities: int,
    user_id: int | None,
) -> Job:
    """Queues a `score_portfolio` job over accounts (exactly `entity_ids` when given, else at
    most `max_entities`, unscored or stalest first) and commits: the message goes out with
    the commit. Returns the job, whose progress is at /api/v1/jobs/{id}."""
    params: dict[str, object] = {"predictionType": prediction_type.value, "kind": ACCOUNT}
    if entity_ids is not None:
        params["entityIds"] = list(entity_ids)
    else:
        params["maxEntities"] = max_entities
    job = enqueue_job(session, type=SCORE_PORTFOLIO, params=params, created_by=user_id)
    session.commit()
    return job


def validate_account_predictions(
    session: Session, *, now: datetime, tolerance_points: float
) -> int:
    """Judges the accounts' expired predictions whose outcome is known now against what
    happened (predictions.validation) and commits; returns how many were judged."""
    judged = validate_expired(session, now=now, tolerance_points=tolerance_points, kind=ACCOUNT)
    session.commit()
    return judged


def account_models(session: Session) -> list[ModelVersion]:
    """The active model of each account prediction type that has one (CHURN, then
    HEALTH_TREND): what the portfolio's ML status reports."""
    found = (
        active_version(session, prediction_type=t.value, population=ACCOUNT) for t in ACCOUNT_TYPES
    )
    return [version for version in found if version is not None]
