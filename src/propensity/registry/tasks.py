"""Periodic `registry.evaluate_deployments` (hourly, minute 20 UTC): every tenant's running
champion/challenger deployment that is past its end or watched by its guardrail is evaluated
(registry.deployments), each tenant in its own transaction so one failure stops no other."""

from __future__ import annotations

import sqlalchemy as sa
from huey import crontab

from propensity.db import Database, utcnow
from propensity.jobs import periodic_task
from propensity.jobs.isolation import each
from propensity.logs import get_logger
from propensity.models import Deployment, DeploymentStatus
from propensity.registry.deployments import due_deployments, evaluate
from propensity.settings import Settings

log = get_logger(__name__)


def evaluate_due(database: Database) -> dict[int, list[str]]:
    """Evaluates what is due; returns each tenant's deployment statuses after evaluation."""
    now = utcnow()
    with database.system_session() as session:
        tenants = sorted(
            int(t)
            for t in session.scalars(
                sa.select(Deployment.tenant_id)
                .where(Deployment.status == DeploymentStatus.RUNNING.value)
                .distinct()
            )
        )

    def evaluate_tenant(tenant_id: int) -> list[str]:
        with database.tenant_session(tenant_id) as session:
            return [
                evaluate(session, deployment=d, now=now).status
                for d in due_deployments(session, now=now)
            ]

    return each(tenants, evaluate_tenant, task="registry.evaluate_deployments")


@periodic_task("registry.evaluate_deployments", schedule=crontab(minute="20"))
def evaluate_deployments(database: Database, settings: Settings) -> None:
    del settings
    for tenant_id, statuses in evaluate_due(database).items():
        log.info("deployments evaluated", tenant_id=tenant_id, statuses=statuses)
