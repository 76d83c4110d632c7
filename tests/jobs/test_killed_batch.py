"""A worker killed (kill -9) in the middle of a batch-score: another worker finishes the job,
every lead ends with exactly one prediction from the job, the job's counts are exact, and
each lead is announced once (prediction.created events name each lead once)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
import sqlalchemy as sa

from propensity.db import Database
from propensity.jobs import recover_interrupted_jobs, start_embedded_consumer
from propensity.models import Prediction, WebhookEvent, WebhookSubscription
from propensity.predictions.tasks import SCORE_PORTFOLIO
from propensity.settings import Settings
from propensity.training.service import train_prediction_type
from tests.factories import make_simulated_tenant
from tests.jobs.support import (
    BACKENDS,
    enqueue,
    job_row,
    own_queue,
    settings_for,
    start_worker_process,
    wait_for,
    wait_for_status,
)
from tests.predictions.test_tasks import AS_OF

CHUNK = 100


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_batch_score_survives_a_killed_worker_writing_nothing_twice(
    backend: str, settings: Settings, database: Database, tmp_path: Path
) -> None:
    tenant = make_simulated_tenant(database, settings, leads=1500)
    train_prediction_type(database, tenant_id=tenant.tenant_id, prediction_type="CONVERSION")
    with database.tenant_session(tenant.tenant_id) as session:
        # A receiver for prediction.created, so the events are written (delivering them is
        # another matter: this address never answers).
        session.add(
            WebhookSubscription(
                url="https://receiver.invalid/hook", events=["prediction.created"], secret="s"
            )
        )
    cfg = settings_for(settings, backend, job_stale_after_seconds=10)
    with own_queue(cfg, database) as queue:
        job_id = enqueue(
            database,
            tenant.tenant_id,
            SCORE_PORTFOLIO,
            predictionType="CONVERSION",
            chunkSize=CHUNK,
            asOf=AS_OF.isoformat(),
        )
        worker = start_worker_process(cfg, queue, tmp_path / "worker.log")
        try:
            wait_for(
                lambda: (
                    job_row(database, job_id).completed >= 2 * CHUNK or worker.poll() is not None
                ),
                timeout=120,
                what="the worker to store two chunks",
            )
        finally:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
        stored_before = job_row(database, job_id).completed
        assert stored_before >= 2 * CHUNK, (tmp_path / "worker.log").read_text()[-2000:]
        assert job_row(database, job_id).status == "running"  # what the kill left behind

        report = recover_interrupted_jobs(database, cfg, queue=queue)
        assert report.requeued == [job_id]
        with start_embedded_consumer(cfg, database=database, queue=queue, periodic=False):
            job = wait_for_status(database, job_id, "completed", "failed", timeout=180)
    assert job.status == "completed", job.error
    assert job.attempts == 2

    with database.tenant_session(tenant.tenant_id) as session:
        rows = session.execute(
            sa.select(Prediction.lead_id, Prediction.status).where(Prediction.job_id == job_id)
        ).all()
        bodies = session.scalars(
            sa.select(WebhookEvent.body).where(WebhookEvent.type == "prediction.created")
        ).all()
    leads = [lead for lead, _ in rows]
    assert len(leads) == len(set(leads)) == job.total
    assert {status for _, status in rows} == {"ACTIVE"}
    assert job.result is not None and job.result["scored"] == job.total == job.completed
    announced = [json.loads(body)["data"]["count"] for body in bodies]
    assert sum(announced) == len(leads)
