"""Concept drift judges recent predictions by the rule of the held-out accuracy they are
compared with, and says when its newest judgement was made (monitoring/service.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from propensity.db import Database
from propensity.models import Customer, ModelVersion, Prediction
from propensity.monitoring.service import CONCEPT_WINDOW, recent_concept
from propensity.registry.service import start_version
from propensity.settings import Settings
from tests.factories import make_tenant_user

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _version(database: Database, tenant_id: int, prediction_type: str) -> int:
    with database.tenant_session(tenant_id) as session:
        version = start_version(session, prediction_type=prediction_type, population="account")
        version.metrics = {"accuracy": 0.8}
        return version.id


def _judged(
    database: Database,
    tenant_id: int,
    version_id: int,
    prediction_type: str,
    rows: list[tuple[bool, float, dict[str, float]]],
    *,
    validated_at: list[datetime],
) -> None:
    """One account and a judged prediction per (was_accurate, actual_value, outputs)."""
    with database.tenant_session(tenant_id) as session:
        customer = Customer(external_id="acc-1", kind="account")
        session.add(customer)
        session.flush()
        for (accurate, actual, outputs), at in zip(rows, validated_at, strict=True):
            session.add(
                Prediction(
                    prediction_type=prediction_type,
                    customer_id=customer.id,
                    model_version_id=version_id,
                    predicted_value=50.0,
                    probability=0.7,
                    outputs=outputs,
                    predicted_at=at - timedelta(days=40),
                    valid_until=at - timedelta(days=10),
                    was_accurate=accurate,
                    actual_value=actual,
                    validated_at=at,
                )
            )


def test_a_health_forecast_is_judged_by_its_interval_like_its_held_out_accuracy(
    database: Database, settings: Settings
) -> None:
    user = make_tenant_user(database, settings)
    version_id = _version(database, user.tenant_id, "HEALTH_TREND")
    interval = {"low": 40.0, "high": 60.0}
    # Validation's tolerance rule called every one of them wrong (more than 5 points off);
    # 8 of the 10 actual scores are nonetheless inside the served p10-p90 interval.
    actuals = [41.0, 44.0, 46.0, 54.0, 56.0, 58.0, 59.0, 60.0, 39.0, 61.0]
    times = [NOW - timedelta(days=d) for d in range(10)]
    _judged(
        database,
        user.tenant_id,
        version_id,
        "HEALTH_TREND",
        [(False, a, interval) for a in actuals],
        validated_at=times,
    )
    with database.tenant_session(user.tenant_id) as session:
        version = session.get(ModelVersion, version_id)
        assert version is not None
        concept, note, latest = recent_concept(session, version=version, as_of=NOW)
    assert note is None and concept is not None
    assert concept.validated == 10
    assert concept.recent_accuracy == pytest.approx(0.8)
    assert concept.score == pytest.approx(0.0)
    assert latest == NOW


def test_a_binary_model_is_judged_by_validation_and_old_judgements_fall_out(
    database: Database, settings: Settings
) -> None:
    user = make_tenant_user(database, settings)
    version_id = _version(database, user.tenant_id, "CHURN")
    outside = NOW - CONCEPT_WINDOW - timedelta(hours=1)
    newest = NOW - timedelta(days=2)
    _judged(
        database,
        user.tenant_id,
        version_id,
        "CHURN",
        [(True, 1.0, {}), (False, 0.0, {}), (False, 0.0, {}), (True, 1.0, {})],
        validated_at=[newest, newest - timedelta(days=1), NOW - timedelta(days=5), outside],
    )
    with database.tenant_session(user.tenant_id) as session:
        version = session.get(ModelVersion, version_id)
        assert version is not None
        concept, _, latest = recent_concept(session, version=version, as_of=NOW)
    assert concept is not None
    assert concept.validated == 3
    assert concept.recent_accuracy == pytest.approx(1 / 3)
    assert concept.score == pytest.approx(0.8 - 1 / 3)
    # When the newest judgement in the window was made: the report's detectedAt.
    assert latest == newest
