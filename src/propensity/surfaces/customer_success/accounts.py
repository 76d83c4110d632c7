"""Account-level predictions: find the account, serve the latest valid prediction or make one.

A prediction is served from cache (`"cached": true`) when it is ACTIVE, still inside its
validity window and made by the model that is active now; otherwise (or with forceRefresh)
the account is scored afresh with point-in-time features, explained and stored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, defer

from propensity.errors import InvalidInput, NotFound, Unavailable
from propensity.models import (
    Customer,
    CustomerKind,
    ModelStatus,
    ModelVersion,
    Prediction,
    PredictionStatus,
)
from propensity.predictions.service import score_and_record
from propensity.registry.service import ACTIVE_MODEL_COLUMNS, ActiveModel, active_model
from propensity.settings import Settings

ACCOUNT_TYPES = ("CHURN", "HEALTH_TREND")
# The answers never show the stored contributions or the imported attributes; decoding their
# JSON would be most of a cached answer's cost. Loaded on access if ever needed.
LIGHT = (defer(Prediction.contributions), defer(Customer.attributes))
POPULATION = CustomerKind.ACCOUNT.value


def parse_prediction_type(value: object) -> str:
    text = str(value).strip().upper() if isinstance(value, str) else ""
    if text not in ACCOUNT_TYPES:
        raise InvalidInput(
            "Invalid prediction type",
            code="INVALID_PREDICTION_TYPE",
            details={"allowed": list(ACCOUNT_TYPES), "received": value},
        )
    return text


def parse_account_id(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise NotFound("Account not found", code="ACCOUNT_NOT_FOUND", details={"accountId": raw})
    return value


def get_account(session: Session, raw_id: str) -> Customer:
    account_id = parse_account_id(raw_id)
    account = session.scalars(
        sa.select(Customer).where(Customer.id == account_id, Customer.kind == POPULATION)
    ).first()
    if account is None:
        raise NotFound(
            "Account not found", code="ACCOUNT_NOT_FOUND", details={"accountId": account_id}
        )
    return account


def require_model(session: Session, prediction_type: str) -> ActiveModel:
    model = active_model(session, prediction_type=prediction_type, population=POPULATION)
    if model is None:
        raise Unavailable(
            "ML service unavailable",
            code="ML_UNAVAILABLE",
            details={
                "reason": f"No {prediction_type} model is trained for this tenant's accounts "
                f"yet; train one (`propensity train {prediction_type} --kind account`) and "
                "try again",
                "predictionType": prediction_type,
            },
        )
    return model


def latest_prediction(
    session: Session,
    *,
    account_id: int,
    prediction_type: str | None = None,
    valid_at: datetime | None = None,
) -> Prediction | None:
    """The newest prediction of the account (of one type), optionally only a valid one."""
    query = sa.select(Prediction).where(Prediction.customer_id == account_id)
    if prediction_type is not None:
        query = query.where(Prediction.prediction_type == prediction_type)
    else:
        query = query.where(Prediction.prediction_type.in_(ACCOUNT_TYPES))
    if valid_at is not None:
        query = query.where(
            Prediction.status == PredictionStatus.ACTIVE.value, Prediction.valid_until > valid_at
        )
    return session.scalars(
        query.order_by(Prediction.predicted_at.desc(), Prediction.id.desc())
        .limit(1)
        .options(LIGHT[0])
    ).first()


# Built once: constructing a statement of this size costs more than running it.
_CACHED_ANSWER = (
    sa.select(
        Customer,
        Prediction,
        *ACTIVE_MODEL_COLUMNS,
    )
    .join(Prediction, Prediction.customer_id == Customer.id)
    .join(ModelVersion, ModelVersion.id == Prediction.model_version_id)
    .where(
        Customer.id == sa.bindparam("account_id"),
        Customer.kind == POPULATION,
        Prediction.prediction_type == sa.bindparam("prediction_type"),
        Prediction.status == PredictionStatus.ACTIVE.value,
        Prediction.valid_until > sa.bindparam("now", type_=Prediction.valid_until.type),
        # Batch runs store the narrative only for the accounts at risk; the others are
        # scored afresh when someone asks for their explanation.
        Prediction.explanation.is_not(None),
        ModelVersion.status == ModelStatus.ACTIVE.value,
    )
    .order_by(Prediction.predicted_at.desc(), Prediction.id.desc())
    .limit(1)
    .options(*LIGHT)
)


def cached_answer(
    session: Session, *, raw_id: str, prediction_type: str, now: datetime
) -> tuple[Customer, Prediction, ActiveModel] | None:
    """The account, its valid prediction by the active model and that model, in one query;
    None when any of them is missing (the full path then says which, or makes one)."""
    try:
        account_id = int(raw_id)
    except ValueError:
        return None
    row = session.execute(
        _CACHED_ANSWER,
        {"account_id": account_id, "prediction_type": prediction_type, "now": now},
    ).first()
    if row is None:
        return None
    return row[0], row[1], ActiveModel(*row[2:])


def predict_account(
    session: Session,
    *,
    account: Customer,
    prediction_type: str,
    force: bool,
    settings: Settings,
    now: datetime,
    before_generate: Callable[[], None] | None = None,
) -> tuple[Prediction, ActiveModel, bool]:
    """(prediction, its model, cached). Commits when it stores a new prediction;
    `before_generate` runs first (the daily quota counts fresh predictions only)."""
    version = require_model(session, prediction_type)
    if not force:
        cached = latest_prediction(
            session, account_id=account.id, prediction_type=prediction_type, valid_at=now
        )
        if (
            cached is not None
            and cached.model_version_id == version.id
            and cached.explanation is not None
        ):
            return cached, version, True
    if before_generate is not None:
        before_generate()
    score_and_record(
        session,
        prediction_type=prediction_type,
        kind=POPULATION,
        entity_ids=[account.id],
        as_of=now,
        settings=settings,
    )
    session.commit()
    stored = latest_prediction(session, account_id=account.id, prediction_type=prediction_type)
    assert stored is not None
    return stored, version, False
