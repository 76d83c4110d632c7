"""The model page's curves and accuracy over time: stored held-out curves first, else drawn
from validated predictions, else none; accuracy by week of prediction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from propensity.db import Database
from propensity.modeling.curves import binary_curves
from propensity.models import Lead, ModelStatus, ModelVersion, Prediction
from propensity.monitoring.curves import (
    HELD_OUT,
    MIN_VALIDATED,
    VALIDATED,
    accuracy_over_time,
    model_curves,
)
from propensity.settings import Settings
from tests.factories import make_tenant_user

NEWEST = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _version(session: object, **fields: object) -> ModelVersion:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    values: dict[str, object] = {
        "prediction_type": "CONVERSION",
        "population": "lead",
        "version_number": 1,
        "name": "Conversion v1",
        "status": ModelStatus.ACTIVE.value,
        "threshold": 0.5,
        "metrics": {"roc_auc": 0.75, "ece": 0.04},
        **fields,
    }
    version = ModelVersion(**values)
    session.add(version)
    session.flush()
    return version


def _validated(
    session: object, version: ModelVersion, rows: list[tuple[float, float, int]]
) -> None:
    """(probability, outcome, days before NEWEST) per lead, each judged at the threshold."""
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    first = session.query(Lead).count()
    for i, (probability, outcome, days_back) in enumerate(rows, start=first):
        lead = Lead(external_id=f"L{i}")
        session.add(lead)
        session.flush()
        at = NEWEST - timedelta(days=days_back)
        session.add(
            Prediction(
                prediction_type="CONVERSION",
                lead_id=lead.id,
                model_version_id=version.id,
                probability=probability,
                predicted_at=at,
                valid_until=at + timedelta(days=1),
                status="EXPIRED",
                was_accurate=(probability >= 0.5) == (outcome == 1.0),
                actual_value=outcome,
                validated_at=NEWEST,
            )
        )
    session.flush()


def test_stored_held_out_curves_come_first(database: Database, settings: Settings) -> None:
    user = make_tenant_user(database, settings)
    y = np.array([0.0, 1.0] * 50)
    stored = binary_curves(np.linspace(0.05, 0.95, 100), y, evaluated_on="held-out test split")
    with database.tenant_session(user.tenant_id) as session:
        version = _version(session, training_summary={"model": {"curves": stored}})
        curves = model_curves(session, version=version)
    assert curves is not None and curves.source == HELD_OUT
    assert curves.rows == 100 and curves.ece == 0.04  # the stored metric, as the API shows it
    assert curves.roc == stored["roc"] and curves.reliability == stored["reliability"]


def test_without_stored_curves_validated_predictions_draw_them(
    database: Database, settings: Settings
) -> None:
    user = make_tenant_user(database, settings)
    rng = np.random.default_rng(4)
    rows = [(float(p), float(rng.random() < p), int(rng.integers(0, 60))) for p in rng.random(80)]
    with database.tenant_session(user.tenant_id) as session:
        version = _version(session, training_summary={})
        assert model_curves(session, version=version) is None  # nothing measured yet
        _validated(session, version, rows[: MIN_VALIDATED - 1])
        assert model_curves(session, version=version) is None  # too few to draw
        _validated(session, version, rows[MIN_VALIDATED - 1 :])
        curves = model_curves(session, version=version)
    assert curves is not None and curves.source == VALIDATED
    assert curves.rows == len(rows)
    assert curves.positives == sum(int(o) for _, o, _ in rows)
    assert sum(b["rows"] for b in curves.reliability) == len(rows)


def test_models_without_a_probability_have_no_curves(
    database: Database, settings: Settings
) -> None:
    user = make_tenant_user(database, settings)
    with database.tenant_session(user.tenant_id) as session:
        version = _version(session, threshold=None)
        assert model_curves(session, version=version) is None


def test_accuracy_by_week_of_prediction(database: Database, settings: Settings) -> None:
    user = make_tenant_user(database, settings)
    rows = [
        (0.9, 1.0, 0),  # this week: right
        (0.8, 0.0, 3),  # this week: wrong
        (0.2, 0.0, 10),  # last week: right
        (0.3, 0.0, 30),  # five weeks back: right
    ]
    with database.tenant_session(user.tenant_id) as session:
        version = _version(session)
        _validated(session, version, rows)
        points = accuracy_over_time(session, version=version)
    assert [p.validated for p in points] == [1, 1, 2]
    assert [p.accuracy for p in points] == [1.0, 1.0, 0.5]
    assert points[-1].week_end == NEWEST
    assert points[-1].mean_predicted == pytest.approx(0.85) and points[-1].observed_rate == 0.5
    assert [p.week_end for p in points] == sorted(p.week_end for p in points)
