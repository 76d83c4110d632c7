"""A simulated lead tenant with a trained CONVERSION model, for the monitoring tests."""

from __future__ import annotations

from datetime import UTC, datetime

from propensity.db import Database
from propensity.models import ModelVersion
from propensity.settings import Settings
from propensity.training.service import train_prediction_type
from tests.factories import TenantUser, make_simulated_tenant

LEADS = 500
# The simulator's data ends here (tests/factories.py): the live population is the open leads then.
DATA_END = datetime(2026, 6, 1, tzinfo=UTC)


def trained_lead_tenant(
    database: Database, settings: Settings, *, slug: str = "sim", seed: int = 11
) -> tuple[TenantUser, int]:
    user = make_simulated_tenant(database, settings, slug=slug, leads=LEADS, seed=seed)
    outcome = train_prediction_type(
        database, tenant_id=user.tenant_id, prediction_type="CONVERSION"
    )
    return user, outcome.version_id


def version_of(session: object, version_id: int) -> ModelVersion:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    version = session.get(ModelVersion, version_id)
    assert version is not None
    return version
