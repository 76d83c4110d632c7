"""Plain factory functions for CTA tests: accounts and predictions inserted through the ORM."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from propensity.models import Customer, Prediction

NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)


def make_account(
    session: Session,
    *,
    external_id: str = "acct-1",
    kind: str = "account",
    renewal_date: date | None = None,
    created_at: datetime | None = NOW - timedelta(days=400),
) -> Customer:
    customer = Customer(
        external_id=external_id,
        kind=kind,
        name=f"Account {external_id}",
        renewal_date=renewal_date,
        created_at=created_at,
        attributes={},
    )
    session.add(customer)
    session.flush()
    return customer


def make_prediction(
    session: Session,
    *,
    customer: Customer,
    prediction_type: str = "CHURN",
    probability: float | None = 0.72,
    predicted_value: float | None = None,
    outputs: dict[str, Any] | None = None,
    explanation: str | None = "Account shows significant churn risk.",
    predicted_at: datetime = NOW,
) -> Prediction:
    if outputs is None:
        outputs = {
            "level": "high",
            "interventionUrgency": "this_week",
            "primaryDrivers": ["Declining health scores", "No executive engagement"],
        }
    prediction = Prediction(
        prediction_type=prediction_type,
        customer_id=customer.id,
        probability=probability,
        predicted_value=predicted_value,
        outputs=outputs,
        contributions={},
        explanation=explanation,
        predicted_at=predicted_at,
        valid_until=predicted_at + timedelta(days=30),
    )
    session.add(prediction)
    session.flush()
    return prediction
