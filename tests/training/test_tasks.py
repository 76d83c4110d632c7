"""Training through the real job queue: progress stages, result, failure as a job error."""

from __future__ import annotations

import sqlalchemy as sa

from propensity.db import Database
from propensity.jobs import start_embedded_consumer
from propensity.models import ModelVersion
from propensity.settings import Settings
from propensity.training.tasks import TRAIN_MODEL
from tests.factories import make_simulated_tenant
from tests.jobs.support import enqueue, job_row, own_queue, wait_for_status


def test_training_job_reports_stages_and_stores_the_model(
    database: Database, settings: Settings
) -> None:
    tenant = make_simulated_tenant(database, settings, leads=1200)
    with own_queue(settings, database) as queue:
        consumer = start_embedded_consumer(settings, database=database, queue=queue, periodic=False)
        try:
            job_id = enqueue(database, tenant.tenant_id, TRAIN_MODEL, predictionType="CONVERSION")
            job = wait_for_status(database, job_id, "completed", "failed", timeout=120)
        finally:
            consumer.stop()
    assert job.status == "completed", job.error
    assert job.result is not None and job.result["version"] == "v1"
    assert job.progress == 1.0
    with database.tenant_session(tenant.tenant_id) as session:
        version = session.scalars(sa.select(ModelVersion)).one()
    assert version.job_id == job_id
    assert version.status == "active"


def test_a_training_job_without_enough_data_fails_with_the_reason(
    database: Database, settings: Settings
) -> None:
    tenant = make_simulated_tenant(database, settings, leads=40)
    with own_queue(settings, database) as queue:
        consumer = start_embedded_consumer(settings, database=database, queue=queue, periodic=False)
        try:
            job_id = enqueue(database, tenant.tenant_id, TRAIN_MODEL, predictionType="CONVERSION")
            wait_for_status(database, job_id, "failed", timeout=60)
        finally:
            consumer.stop()
    job = job_row(database, job_id)
    assert job.error is not None and "need" in job.error.lower()
