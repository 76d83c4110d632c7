"""Shared setup for RetainStream's churn contract tests: a simulated subscriber base with a
trained churn model and (unless told otherwise) one scoring run."""

from __future__ import annotations

from propensity.db import Database
from propensity.predictions.service import score_and_record
from propensity.settings import Settings
from propensity.training.service import train_prediction_type
from tests.factories import TenantUser, make_simulated_tenant

SUBSCRIBERS = 1500


def trained_tenant(
    database: Database, settings: Settings, *, slug: str = "sim", scored: bool = True
) -> TenantUser:
    """With `scored=False` no subscriber has a prediction yet."""
    user = make_simulated_tenant(database, settings, slug=slug, subscribers=SUBSCRIBERS)
    train_prediction_type(
        database, tenant_id=user.tenant_id, prediction_type="CHURN", kind="subscriber"
    )
    if scored:
        with database.tenant_session(user.tenant_id) as session:
            score_and_record(session, prediction_type="CHURN", kind="subscriber")
    return user
