"""A portfolio job interrupted after some chunks and run again writes nothing twice: every
entity ends with exactly one prediction from the job, and the run counts each once."""

from __future__ import annotations

from functools import partial

import pytest
import sqlalchemy as sa

from propensity.db import Database
from propensity.models import Prediction
from propensity.predictions.batch import MIN_CHUNK_SIZE, score_portfolio
from propensity.settings import Settings
from propensity.training.service import train_prediction_type
from tests.factories import make_simulated_tenant
from tests.predictions.test_tasks import AS_OF


class Killed(Exception):
    """Stands for the worker dying between two chunks (each chunk commits on its own)."""


def test_a_retried_job_skips_what_its_earlier_run_stored(
    database: Database, settings: Settings
) -> None:
    tenant = make_simulated_tenant(database, settings, leads=800)
    train_prediction_type(database, tenant_id=tenant.tenant_id, prediction_type="CONVERSION")
    sessions = partial(database.tenant_session, tenant.tenant_id)

    def die_after_first_chunk(done: int, total: int) -> None:
        if done > 0 and done < total:
            raise Killed

    with pytest.raises(Killed):
        score_portfolio(
            sessions,
            prediction_type="CONVERSION",
            as_of=AS_OF,
            chunk_size=MIN_CHUNK_SIZE,
            settings=settings,
            progress=die_after_first_chunk,
            job_id="job-1",
        )
    with database.tenant_session(tenant.tenant_id) as session:
        first = session.scalar(
            sa.select(sa.func.count()).select_from(Prediction).where(Prediction.job_id == "job-1")
        )
    assert first == MIN_CHUNK_SIZE

    run = score_portfolio(
        sessions,
        prediction_type="CONVERSION",
        as_of=AS_OF,
        chunk_size=MIN_CHUNK_SIZE,
        settings=settings,
        job_id="job-1",
    )
    with database.tenant_session(tenant.tenant_id) as session:
        rows = session.execute(
            sa.select(Prediction.lead_id, Prediction.status).where(Prediction.job_id == "job-1")
        ).all()
    leads = [lead for lead, _ in rows]
    assert len(leads) == len(set(leads)) == run.scored > MIN_CHUNK_SIZE
    assert {status for _, status in rows} == {"ACTIVE"}
    # Another job is another job: it scores everyone again.
    again = score_portfolio(
        sessions, prediction_type="CONVERSION", as_of=AS_OF, settings=settings, job_id="job-2"
    )
    assert again.scored == run.scored
