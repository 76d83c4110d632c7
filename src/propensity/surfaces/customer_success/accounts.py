"""Account-level predictions: find the account, and serve its prediction through the data
plane (propensity.serving): the stored one while it is still the answer (`"cached": true`),
else a fresh one, scored by the model serving the account (the active model, or the
challenger its split routes it to during a deployment), explained and stored. forceRefresh
always scores afresh.

The document's errors: 400 `Invalid prediction type`, 404 `Account not found`, and 503
`ML service unavailable` when no model of the type is trained for the tenant's accounts.
"""

from __future__ import annotations

from datetime import datetime

from propensity.crm.lookup import find_account, parse_id
from propensity.db import Session
from propensity.errors import InvalidInput, NotFound, Unavailable
from propensity.models import Customer
from propensity.serving.routing import ServingModels, serving_models_or_none
from propensity.serving.service import Served, Spend, serve
from propensity.settings import Settings
from propensity.vocabulary import ACCOUNT_TYPES, Population, PredictionType

POPULATION = Population.ACCOUNT.value
# The code serving gives its Unavailable when no model of the type is trained.
NO_MODEL = "MODEL_UNAVAILABLE"


def parse_prediction_type(value: object) -> PredictionType:
    text = value.strip().upper() if isinstance(value, str) else ""
    for prediction_type in ACCOUNT_TYPES:
        if prediction_type.value == text:
            return prediction_type
    raise InvalidInput(
        "Invalid prediction type",
        code="INVALID_PREDICTION_TYPE",
        details={"allowed": [t.value for t in ACCOUNT_TYPES], "received": value},
    )


def get_account(session: Session, raw_id: str) -> Customer:
    account_id = parse_id(raw_id)
    account = None if account_id is None else find_account(session, account_id=account_id)
    if account is None:
        raise NotFound(
            "Account not found",
            code="ACCOUNT_NOT_FOUND",
            details={"accountId": raw_id if account_id is None else account_id},
        )
    return account


def unavailable(prediction_type: PredictionType) -> Unavailable:
    return Unavailable(
        "ML service unavailable",
        code="ML_UNAVAILABLE",
        details={
            "reason": f"No {prediction_type.value} model is trained for this tenant's accounts "
            f"yet; train one (`propensity train {prediction_type.value} --kind account`) and "
            "try again",
            "predictionType": prediction_type.value,
        },
    )


def require_models(session: Session, prediction_type: PredictionType) -> ServingModels:
    models = serving_models_or_none(session, prediction_type=prediction_type, population=POPULATION)
    if models is None:
        raise unavailable(prediction_type)
    return models


def serve_account(
    session: Session,
    *,
    account: Customer,
    prediction_type: PredictionType,
    force: bool,
    settings: Settings,
    now: datetime,
    spend: Spend,
) -> Served:
    """The account's answer (serving.serve); `spend` is charged only for a fresh prediction
    (the daily quota counts those only)."""
    try:
        return serve(
            session,
            prediction_type=prediction_type,
            population=POPULATION,
            entity_id=account.id,
            now=now,
            settings=settings,
            force=force,
            spend=spend,
        )
    except Unavailable as exc:
        if exc.code != NO_MODEL:
            raise
        raise unavailable(prediction_type) from exc
