"""Which accounts' predictions CTAs are generated from, and generating them: one account's
(from its current prediction) or the portfolio's most at risk (CTA generation itself, with its
duplicate and cooldown checks, is service.generate_cta).

A CTA is generated from an account's current prediction (serving: ACTIVE, unexpired, by the
model that serves the account now), and judged against that model's threshold.

Candidates, most at risk first:
    CHURN         current predictions at or above their model's threshold (0.5 without
                  one), by probability
    HEALTH_TREND  current forecasts HEALTH_CTA_DROP points or more below the account's
                  current score, by the size of the drop
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.ctas.service import CtaOutcome, generate_cta
from propensity.models import Customer, ModelVersion, Prediction, PredictionStatus
from propensity.serving.service import Served, current, current_many
from propensity.vocabulary import ACCOUNT_TYPES, Population, PredictionType

ACCOUNT = Population.ACCOUNT.value
# generate-ctas looks at most this many candidates per CTA wanted, so a portfolio full of
# accounts in cooldown answers quickly instead of walking every account.
CANDIDATES_PER_CTA = 5
# A declining health forecast at least this many points below today's score is a candidate
# for a CTA (the trajectory rule's 3 points is too small a move to act on).
HEALTH_CTA_DROP = 5.0
DEFAULT_THRESHOLD = 0.5


def _threshold(served: Served) -> float | None:
    return served.model.threshold if served.model is not None else None


def cta_source(session: Session, *, account_id: int, now: datetime) -> Served | None:
    """The prediction a CTA for this account is generated from: its current churn prediction,
    else its current health trend; None when it has neither (the caller says to predict
    first)."""
    for prediction_type in ACCOUNT_TYPES:
        served = current(
            session,
            prediction_type=prediction_type,
            population=ACCOUNT,
            entity_id=account_id,
            now=now,
        )
        if served is not None:
            return served
    return None


def _generate(
    session: Session,
    *,
    account: Customer,
    served: Served,
    user_id: int | None,
    now: datetime,
    days: int,
) -> CtaOutcome:
    """The CTA the served prediction calls for, at the serving model's threshold."""
    return generate_cta(
        session,
        customer=account,
        prediction=served.prediction,
        threshold=_threshold(served),
        user_id=user_id,
        now=now,
        cooldown_days=days,
    )


def generate_account_cta(
    session: Session,
    *,
    account: Customer,
    source: Served,
    user_id: int | None,
    now: datetime,
    cooldown_days: int,
) -> CtaOutcome:
    """The CTA `source` (from cta_source) calls for, created and committed; or, when it is
    not created (no CTA applies, a duplicate, the cooldown), the reason, nothing written."""
    outcome = _generate(
        session, account=account, served=source, user_id=user_id, now=now, days=cooldown_days
    )
    if outcome.was_created:
        session.commit()
    return outcome


def cta_candidates(
    session: Session, *, prediction_type: PredictionType, limit: int, now: datetime
) -> list[tuple[Customer, Served]]:
    """(account, its current prediction) of the type, most at risk first, at most `limit`
    (see the module's docstring)."""
    # SQL narrows to accounts with an ACTIVE prediction that may qualify; serving decides
    # which of those predictions are still the accounts' answers.
    query = (
        sa.select(Customer)
        .join(Prediction, Prediction.customer_id == Customer.id)
        .where(
            Customer.kind == ACCOUNT,
            Prediction.prediction_type == prediction_type.value,
            Prediction.status == PredictionStatus.ACTIVE.value,
        )
    )
    if prediction_type is PredictionType.CHURN:
        query = query.outerjoin(ModelVersion, ModelVersion.id == Prediction.model_version_id).where(
            Prediction.probability >= sa.func.coalesce(ModelVersion.threshold, DEFAULT_THRESHOLD)
        )
    accounts = {a.id: a for a in session.scalars(query)}
    found = current_many(
        session,
        prediction_type=prediction_type,
        population=Population.ACCOUNT.value,
        entity_ids=list(accounts),
        now=now,
    )
    ranked: list[tuple[tuple[float, int], Customer, Served]] = []
    for account_id, served in found.items():
        prediction = served.prediction
        if prediction_type is PredictionType.CHURN:
            threshold = _threshold(served)
            probability = prediction.probability
            if probability is None or probability < (
                threshold if threshold is not None else DEFAULT_THRESHOLD
            ):
                continue
            risk = float(probability)
        else:
            score = (prediction.outputs or {}).get("currentScore")
            if score is None or prediction.predicted_value is None:
                continue
            risk = float(score) - float(prediction.predicted_value)
            if risk < HEALTH_CTA_DROP:
                continue
        ranked.append(((-risk, account_id), accounts[account_id], served))
    ranked.sort(key=lambda r: r[0])
    return [(account, served) for _, account, served in ranked[:limit]]


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
    (duplicate, cooldown, nothing to act on) are reported with their reason. Flushes: the
    caller's unit of work commits (generate_portfolio_ctas, or the demo's session)."""
    outcomes: list[CtaOutcome] = []
    created = 0
    candidates = cta_candidates(
        session,
        prediction_type=PredictionType(prediction_type),
        limit=max_ctas * CANDIDATES_PER_CTA,
        now=now,
    )
    for account, served in candidates:
        if created >= max_ctas:
            break
        outcome = _generate(
            session, account=account, served=served, user_id=user_id, now=now, days=cooldown_days
        )
        created += int(outcome.was_created)
        outcomes.append(outcome)
    return outcomes


def generate_portfolio_ctas(
    session: Session,
    *,
    prediction_type: PredictionType,
    max_ctas: int,
    user_id: int | None,
    now: datetime,
    cooldown_days: int,
) -> list[CtaOutcome]:
    """generate_ctas as a unit of work of its own, committed (the portfolio endpoint's)."""
    outcomes = generate_ctas(
        session,
        prediction_type=prediction_type,
        max_ctas=max_ctas,
        user_id=user_id,
        now=now,
        cooldown_days=cooldown_days,
    )
    session.commit()
    return outcomes
