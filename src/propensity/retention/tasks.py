"""Periodic `retention.prune` (daily, 03:10 UTC): each tenant pruned in its own transaction
(retention/service.py); one tenant's failure stops no other's (jobs/isolation.py)."""

from __future__ import annotations

import sqlalchemy as sa
from huey import crontab

from propensity.db import Database, utcnow
from propensity.jobs import periodic_task
from propensity.jobs.isolation import each
from propensity.logs import get_logger
from propensity.models import Tenant
from propensity.retention.service import Pruned, prune
from propensity.settings import Settings

log = get_logger(__name__)


def prune_all(database: Database, settings: Settings) -> dict[int, Pruned]:
    with database.system_session() as session:
        tenants = [int(t) for t in session.scalars(sa.select(Tenant.id).order_by(Tenant.id))]
    now = utcnow()

    def one(tenant_id: int) -> Pruned:
        with database.tenant_session(tenant_id) as session:
            pruned = prune(session, settings=settings, now=now)
        log.info("retention_pruned", tenant_id=tenant_id, **pruned.to_dict())
        return pruned

    return each(tenants, one, task="retention.prune")


@periodic_task("retention.prune", schedule=crontab(minute="10", hour="3"))
def daily_prune(database: Database, settings: Settings) -> None:
    prune_all(database, settings)
