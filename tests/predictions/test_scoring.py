"""Scoring with the active model: recorded predictions, exact explanations, isolation."""

from __future__ import annotations

import math

import pytest
import sqlalchemy as sa

from propensity.db import Database
from propensity.errors import Unavailable
from propensity.models import Prediction
from propensity.predictions.service import score_and_record
from propensity.settings import Settings
from propensity.training.service import train_prediction_type
from tests.factories import make_simulated_tenant, make_tenant_user


def test_scores_are_recorded_explained_and_superseded(
    database: Database, settings: Settings
) -> None:
    tenant = make_simulated_tenant(database, settings, subscribers=1500)
    train_prediction_type(database, tenant_id=tenant.tenant_id, prediction_type="CHURN")
    with database.tenant_session(tenant.tenant_id) as session:
        run = score_and_record(session, prediction_type="CHURN")
    assert len(run.results) > 500
    for result in run.results[:50]:
        assert result.probability is not None and 0 < result.probability < 1
        assert 0 <= result.confidence <= 1
        parts = result.contributions
        # Group sums carry every feature, so they add up to the raw output exactly.
        assert math.isclose(
            parts["bias"] + sum(parts["groups"].values()), parts["raw"], abs_tol=1e-6
        )
    some = [r.entity_id for r in run.results[:10]]
    with database.tenant_session(tenant.tenant_id) as session:
        again = score_and_record(session, prediction_type="CHURN", entity_ids=some)
    assert sorted(r.entity_id for r in again.results) == sorted(some)
    with database.tenant_session(tenant.tenant_id) as session:
        counts = dict(
            session.execute(
                sa.select(Prediction.status, sa.func.count()).group_by(Prediction.status)
            ).all()
        )
    assert counts == {"ACTIVE": len(run.results), "SUPERSEDED": 10}


def test_scoring_without_a_model_is_unavailable(database: Database, settings: Settings) -> None:
    tenant = make_tenant_user(database, settings)
    with database.tenant_session(tenant.tenant_id) as session, pytest.raises(Unavailable):
        score_and_record(session, prediction_type="CONVERSION")


def test_another_tenants_model_and_predictions_stay_invisible(
    database: Database, settings: Settings
) -> None:
    owner = make_simulated_tenant(database, settings, slug="owner", leads=1200)
    other = make_simulated_tenant(database, settings, slug="other", leads=20, seed=3)
    train_prediction_type(database, tenant_id=owner.tenant_id, prediction_type="CONVERSION")
    with database.tenant_session(owner.tenant_id) as session:
        score_and_record(session, prediction_type="CONVERSION")
    with database.tenant_session(other.tenant_id) as session:
        with pytest.raises(Unavailable):
            score_and_record(session, prediction_type="CONVERSION")
        assert session.scalar(sa.select(sa.func.count()).select_from(Prediction)) == 0


def test_validity_windows_follow_the_settings(settings: Settings) -> None:
    from datetime import timedelta

    from propensity.predictions.service import validity_for

    assert validity_for("CONVERSION", settings) == timedelta(hours=24)
    assert validity_for("CHURN", settings) == timedelta(days=30)
    custom = settings.model_copy(
        update={"lead_prediction_validity_hours": 6, "customer_prediction_validity_days": 7}
    )
    assert validity_for("TIME_TO_CLOSE", custom) == timedelta(hours=6)
    assert validity_for("HEALTH_TREND", custom) == timedelta(days=7)


def test_every_prediction_carries_a_narrative_from_its_own_facts(
    database: Database, settings: Settings
) -> None:
    tenant = make_simulated_tenant(database, settings, leads=1200)
    train_prediction_type(database, tenant_id=tenant.tenant_id, prediction_type="CONVERSION")
    with database.tenant_session(tenant.tenant_id) as session:
        score_and_record(session, prediction_type="CONVERSION")
        stored = session.scalars(sa.select(Prediction).limit(20)).all()
    for prediction in stored:
        assert prediction.explanation and "%" in prediction.explanation
        percent = f"{round(100 * (prediction.probability or 0))}%"
        assert percent in prediction.explanation
        outputs = prediction.outputs
        assert outputs["level"] in {"HOT", "WARM", "COLD"}
        assert outputs["primaryDrivers"] and outputs["recommendations"]
        assert {"factor", "impact", "description"} <= set(outputs["riskFactors"][0])


def test_one_entity_at_a_time_scores_exactly_like_the_whole_portfolio(
    database: Database, settings: Settings
) -> None:
    """The online path (a few ids) and the full build give the same features (bit for bit, see
    tests/features/test_online.py), so the same probabilities, contributions, confidence and
    narrative, for accounts and leads, including an account and a lead with no events and no
    attributes. Numbers are compared to 12 significant digits: the linear half of a blended
    model is a BLAS product whose last bit depends on how many rows it multiplies."""
    from datetime import UTC, datetime

    from propensity.predictions.scoring import score_entities
    from tests.features.helpers import Crm

    as_of = datetime(2026, 5, 25, tzinfo=UTC)
    tenant = make_simulated_tenant(database, settings, accounts=250, leads=1200)
    created = datetime(2026, 1, 5, tzinfo=UTC)
    Crm().customer("acc_bare", kind="account", account_type="CUSTOMER", created_at=created).lead(
        "lead_bare", created_at=created
    ).load(database, tenant.tenant_id)
    for prediction_type, kind in (("CHURN", "account"), ("HEALTH_TREND", "account")):
        train_prediction_type(
            database, tenant_id=tenant.tenant_id, prediction_type=prediction_type, kind=kind
        )
    train_prediction_type(database, tenant_id=tenant.tenant_id, prediction_type="CONVERSION")
    cases = (("CHURN", "account", "acc_bare"), ("HEALTH_TREND", "account", "acc_bare"))
    with database.tenant_session(tenant.tenant_id) as session:
        for prediction_type, kind, bare in (*cases, ("CONVERSION", None, "lead_bare")):
            everyone = score_entities(
                session, prediction_type=prediction_type, kind=kind, as_of=as_of
            )
            by_external = {r.external_id: r for r in everyone.results}
            assert bare in by_external
            picks = [*everyone.results[:: max(1, len(everyone.results) // 5)], by_external[bare]]
            for expected in picks:
                one = score_entities(
                    session,
                    prediction_type=prediction_type,
                    kind=kind,
                    entity_ids=[expected.entity_id],
                    as_of=as_of,
                )
                assert [_rounded(r) for r in one.results] == [_rounded(expected)], (
                    prediction_type,
                    expected.external_id,
                )
            assert by_external[bare].explanation


def _rounded(value: object) -> object:
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {name: _rounded(getattr(value, name)) for name in value.__dataclass_fields__}
    return value
