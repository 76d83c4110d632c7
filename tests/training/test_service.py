"""Training from the database: features -> model -> registry, on simulated tenants."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from propensity.db import Database
from propensity.errors import InsufficientData, InvalidInput
from propensity.modeling import load_model
from propensity.models import ModelVersion
from propensity.registry.service import load_artifact
from propensity.settings import Settings
from propensity.training.service import train_prediction_type
from tests.factories import make_simulated_tenant


def test_trains_conversion_and_time_to_close_and_activates(
    database: Database, settings: Settings
) -> None:
    tenant = make_simulated_tenant(database, settings, leads=1500)
    stages: list[str] = []
    conversion = train_prediction_type(
        database,
        tenant_id=tenant.tenant_id,
        prediction_type="conversion",
        progress=lambda stage, _f: stages.append(stage),
    )
    assert conversion.population == "lead"
    assert conversion.metrics["roc_auc"] > 0.7
    assert stages[0] == "features" and stages[-1] == "done"
    ttc = train_prediction_type(
        database, tenant_id=tenant.tenant_id, prediction_type="TIME_TO_CLOSE"
    )
    assert ttc.algorithm == "xgboost"  # survival:aft is the family that handles censoring
    assert ttc.metrics["c_index"] > 0.6
    with database.tenant_session(tenant.tenant_id) as session:
        version = session.get(ModelVersion, conversion.version_id)
        assert version is not None
        assert version.status == "active"
        assert version.training_summary["mode"] == "point_in_time"
        assert version.horizon_days == 90
        assert version.threshold is not None and 0 < version.threshold < 1
        assert version.feature_stats and version.feature_importance and version.selection
        model = load_model(load_artifact(session, version=version))
        assert model.content_hash == version.artifact_hash


def test_retraining_replaces_the_active_model(database: Database, settings: Settings) -> None:
    tenant = make_simulated_tenant(database, settings, accounts=250)
    first = train_prediction_type(
        database, tenant_id=tenant.tenant_id, prediction_type="HEALTH_TREND"
    )
    second = train_prediction_type(
        database, tenant_id=tenant.tenant_id, prediction_type="HEALTH_TREND", seed=1
    )
    assert (first.version, second.version) == ("v1", "v2")
    assert second.metrics["mae"] < 15
    # The naive forecasts it is judged against are stored with it (issue 16).
    for naive in ("last_score", "linear_trend"):
        assert second.metrics[f"naive_{naive}_mae"] > 0
        assert isinstance(second.metrics[f"mae_skill_vs_{naive}"], float)
    with database.tenant_session(tenant.tenant_id) as session:
        statuses = dict(session.execute(sa.select(ModelVersion.id, ModelVersion.status)).all())
    assert statuses == {first.version_id: "inactive", second.version_id: "active"}


def test_too_little_data_fails_the_version_and_says_how_much(
    database: Database, settings: Settings
) -> None:
    tenant = make_simulated_tenant(database, settings, subscribers=60)
    with pytest.raises(InsufficientData) as raised:
        train_prediction_type(database, tenant_id=tenant.tenant_id, prediction_type="CHURN")
    assert any(ch.isdigit() for ch in raised.value.message)
    with database.tenant_session(tenant.tenant_id) as session:
        version = session.scalars(sa.select(ModelVersion)).one()
    assert version.status == "failed"
    assert version.error == raised.value.message


def test_unknown_or_derived_types_are_refused(database: Database, settings: Settings) -> None:
    tenant = make_simulated_tenant(database, settings, leads=10)
    for bad in ("SCORE", "magic"):
        with pytest.raises(InvalidInput, match="trainable types"):
            train_prediction_type(database, tenant_id=tenant.tenant_id, prediction_type=bad)
