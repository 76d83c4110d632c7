"""Daily portfolio snapshot: every tenant with an active subscriber churn model is scored
(its predictions refreshed) and that day's snapshot recorded."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from huey import crontab

from propensity.db import Database, utcnow
from propensity.jobs import periodic_task
from propensity.jobs.isolation import each
from propensity.models import ModelStatus, ModelVersion
from propensity.portfolio.service import record_portfolio_snapshot
from propensity.portfolio.subscribers import POPULATION, PREDICTION_TYPE
from propensity.settings import Settings

log = logging.getLogger(__name__)


def tenants_with_churn_model(database: Database) -> list[int]:
    with database.system_session() as session:
        rows = session.scalars(
            sa.select(ModelVersion.tenant_id)
            .where(
                ModelVersion.prediction_type == PREDICTION_TYPE,
                ModelVersion.population == POPULATION,
                ModelVersion.status == ModelStatus.ACTIVE.value,
            )
            .distinct()
        ).all()
    return sorted(int(t) for t in rows)


def snapshot_tenant(database: Database, *, tenant_id: int) -> None:
    """Scores the tenant's live subscribers and records today's snapshot, in one unit."""
    from propensity.predictions.service import score_and_record

    now = utcnow()
    with database.tenant_session(tenant_id) as session:
        score_and_record(session, prediction_type=PREDICTION_TYPE, kind=POPULATION, as_of=now)
        record_portfolio_snapshot(session, as_of=now)


@periodic_task("portfolio.daily_snapshot", schedule=crontab(minute="15", hour="2"))
def daily_portfolio_snapshot(database: Database, settings: Settings) -> None:
    del settings
    each(
        tenants_with_churn_model(database),
        lambda tenant_id: snapshot_tenant(database, tenant_id=tenant_id),
        task="portfolio.daily_snapshot",
    )
