"""A simulated tenant with a trained, scored subscriber churn model (shared by the churn
portfolio and churn-kpi tests)."""

from __future__ import annotations

from datetime import UTC, datetime

from propensity.db import Database
from propensity.predictions.service import score_and_record
from propensity.settings import Settings
from propensity.training.service import train_prediction_type
from tests.factories import TenantUser, make_simulated_tenant

# The simulated data ends on 2026-06-01; predictions are made as of that day.
AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def trained_churn_tenant(
    database: Database, settings: Settings, *, slug: str = "sim"
) -> TenantUser:
    user = make_simulated_tenant(database, settings, slug=slug, subscribers=1500)
    train_prediction_type(database, tenant_id=user.tenant_id, prediction_type="CHURN")
    with database.tenant_session(user.tenant_id) as session:
        score_and_record(session, prediction_type="CHURN", kind="subscriber", as_of=AS_OF)
    return user
