"""Periodic `monitoring.daily_drift` (03:30 UTC, after the nightly scoring at 01:45): the drift
of every tenant's active models, stored as the latest check (store.py) for the dashboard,
performance alerts and drift reads. A tenant with `monitoring.driftDetection` off is skipped."""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
from huey import crontab

from propensity.db import Database, utcnow
from propensity.errors import PropensityError
from propensity.jobs import periodic_task
from propensity.jobs.isolation import each
from propensity.mlconfig.service import load_ml_config
from propensity.models import ModelStatus, ModelVersion
from propensity.monitoring.service import model_drift
from propensity.monitoring.store import save_drift
from propensity.settings import Settings

log = logging.getLogger(__name__)


def active_models(database: Database) -> list[tuple[int, int]]:
    """(tenant id, model version id) of every active model."""
    with database.system_session() as session:
        rows = session.execute(
            sa.select(ModelVersion.tenant_id, ModelVersion.id)
            .where(ModelVersion.status == ModelStatus.ACTIVE.value)
            .order_by(ModelVersion.tenant_id, ModelVersion.id)
        ).all()
    return [(int(t), int(v)) for t, v in rows]


def check_drift(database: Database, *, now: datetime | None = None) -> int:
    """Runs and stores the drift check of every active model at `now` (default: the current
    time; tests of data that ends in the past pass its end); returns how many were stored."""
    now = now or utcnow()
    checked = each(
        active_models(database),
        lambda pair: check_model_drift(database, tenant_id=pair[0], version_id=pair[1], now=now),
        task="monitoring.daily_drift",
    )
    return sum(checked.values())


def check_model_drift(
    database: Database, *, tenant_id: int, version_id: int, now: datetime
) -> bool:
    """Runs and stores one model's drift check at `now` (when the tenant's config detects
    drift); True when one was stored. A model without the data for one is logged, not raised:
    one tenant's missing data must not stop the others' checks."""
    try:
        with database.tenant_session(tenant_id) as session:
            if not load_ml_config(session, tenant_id=tenant_id).monitoring.driftDetection:
                return False
            version = session.scalars(
                sa.select(ModelVersion).where(ModelVersion.id == version_id)
            ).one()
            report = model_drift(session, version=version, as_of=now)
            save_drift(session, tenant_id=tenant_id, report=report)
            return True
    except PropensityError as exc:
        log.warning("drift check skipped for model %s: %s", version_id, exc.message)
        return False


@periodic_task("monitoring.daily_drift", schedule=crontab(minute="30", hour="3"))
def daily_drift(database: Database, settings: Settings) -> None:
    del settings
    log.info("daily drift: %s models checked", check_drift(database))
