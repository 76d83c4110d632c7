"""Batch scoring through the real job queue, and the daily refresh with expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from propensity.db import Database, utcnow
from propensity.features import population_ids
from propensity.jobs import Job, start_embedded_consumer
from propensity.models import Lead, Prediction
from propensity.predictions.tasks import SCORE_PORTFOLIO, daily_scoring
from propensity.settings import Settings
from propensity.training.service import train_prediction_type
from tests.factories import make_simulated_tenant
from tests.jobs.support import enqueue, own_queue, wait_for_status

# Near the simulation's end, so some leads are hot (scored as of today, every open lead of the
# simulated past has gone cold).
AS_OF = datetime(2026, 5, 25, tzinfo=UTC)


def run_job(database: Database, settings: Settings, tenant_id: int, **params: Any) -> Job:
    params = {"asOf": AS_OF.isoformat(), **params}
    with own_queue(settings, database) as queue:
        consumer = start_embedded_consumer(settings, database=database, queue=queue, periodic=False)
        try:
            job_id = enqueue(database, tenant_id, SCORE_PORTFOLIO, **params)
            job = wait_for_status(database, job_id, "completed", "failed", timeout=120)
        finally:
            consumer.stop()
    assert job.status == "completed", job.error
    return job


def active(database: Database, tenant_id: int) -> dict[int, Prediction]:
    with database.tenant_session(tenant_id) as session:
        rows = session.scalars(sa.select(Prediction).where(Prediction.status == "ACTIVE")).all()
    by_lead = {int(p.lead_id): p for p in rows if p.lead_id is not None}
    assert len(by_lead) == len(rows), "one ACTIVE prediction per lead"
    return by_lead


def statuses(database: Database, tenant_id: int) -> dict[str, int]:
    with database.tenant_session(tenant_id) as session:
        return dict(
            session.execute(
                sa.select(Prediction.status, sa.func.count()).group_by(Prediction.status)
            ).all()
        )


def test_the_job_scores_in_chunks_picks_the_stalest_and_supersedes(
    database: Database, settings: Settings
) -> None:
    tenant = make_simulated_tenant(database, settings, leads=1200)
    train_prediction_type(database, tenant_id=tenant.tenant_id, prediction_type="CONVERSION")
    with database.tenant_session(tenant.tenant_id) as session:
        live = {
            int(i)
            for i in population_ids(
                session, prediction_type="CONVERSION", as_of=AS_OF, mode="point_in_time"
            )
        }
    assert len(live) > 150

    # At most 60, none scored yet: 60 distinct live leads.
    first = run_job(
        database, settings, tenant.tenant_id, predictionType="CONVERSION", maxEntities=60
    )
    assert first.result is not None and first.result["scored"] == 60
    assert (first.completed, first.total, first.stage) == (60, 60, "scoring")
    batch_one = set(active(database, tenant.tenant_id))
    assert len(batch_one) == 60 and batch_one <= live

    # The next 60 are those without a prediction yet.
    run_job(database, settings, tenant.tenant_id, predictionType="CONVERSION", maxEntities=60)
    batch_two = set(active(database, tenant.tenant_id)) - batch_one
    assert len(batch_two) == 60 and not batch_two & batch_one

    # Everyone, in chunks of 100: progress ends at the total, every live lead has exactly one
    # ACTIVE prediction, the 120 earlier ones are superseded.
    everyone = run_job(
        database, settings, tenant.tenant_id, predictionType="CONVERSION", chunkSize=100
    )
    assert everyone.result is not None
    assert everyone.result["scored"] == len(live) == everyone.total == everyone.completed
    assert everyone.result["predictionType"] == "CONVERSION"
    assert everyone.result["population"] == "lead" and everyone.result["modelVersion"] == "v1"
    assert everyone.progress == 1.0
    predictions = active(database, tenant.tenant_id)
    assert set(predictions) == live
    assert statuses(database, tenant.tenant_id) == {"ACTIVE": len(live), "SUPERSEDED": 120}
    # Rows at risk (flagged) carry their explanation; the others their score only.
    flagged = [p for p in predictions.values() if p.outputs["flagged"]]
    calm = [p for p in predictions.values() if not p.outputs["flagged"]]
    assert flagged and calm
    assert everyone.result["atRisk"] == len(flagged)
    for p in flagged:
        assert (
            p.explanation and p.contributions["features"] and p.outputs["riskFactors"] is not None
        )
    for p in calm:
        assert p.explanation is None and p.probability is not None and p.confidence is not None
    # Every batch prediction records its share of the batch's time, so performance figures
    # exist from the first run.
    assert all(p.latency_ms is not None and p.latency_ms > 0 for p in predictions.values())

    # Exactly these two, again: their predictions are replaced, nobody else's.
    two = sorted(live)[:2]
    again = run_job(
        database, settings, tenant.tenant_id, predictionType="CONVERSION", entityIds=two
    )
    assert again.result is not None and again.result["scored"] == 2
    assert statuses(database, tenant.tenant_id) == {"ACTIVE": len(live), "SUPERSEDED": 122}


def test_daily_scoring_refreshes_lead_models_and_expires_old_predictions(
    database: Database, settings: Settings
) -> None:
    owner = make_simulated_tenant(database, settings, slug="owner", leads=1200)
    bystander = make_simulated_tenant(database, settings, slug="bystander", leads=20, seed=3)
    train_prediction_type(database, tenant_id=owner.tenant_id, prediction_type="CONVERSION")
    two_days_ago = utcnow() - timedelta(days=2)
    # A prediction past its validity in a tenant without any model: only expiry touches it.
    with database.tenant_session(bystander.tenant_id) as session:
        lead_id = session.scalars(sa.select(Lead.id)).first()
        session.add(
            Prediction(
                prediction_type="CONVERSION",
                lead_id=lead_id,
                probability=0.3,
                outputs={},
                contributions={},
                predicted_at=two_days_ago,
                valid_until=two_days_ago + timedelta(hours=24),
            )
        )
    # An old prediction for a lead that converted ten days later: judged by the daily run.
    with database.tenant_session(owner.tenant_id) as session:
        won = session.scalars(
            sa.select(Lead).where(Lead.converted_at.is_not(None)).order_by(Lead.id)
        ).first()
        assert won is not None and won.converted_at is not None
        old = Prediction(
            prediction_type="CONVERSION",
            lead_id=won.id,
            probability=0.8,
            outputs={"threshold": 0.5},
            contributions={},
            predicted_at=won.converted_at - timedelta(days=10),
            valid_until=won.converted_at - timedelta(days=9),
            status="EXPIRED",
        )
        session.add(old)
        session.flush()
        old_id = old.id
    daily_scoring(database, settings)
    assert statuses(database, bystander.tenant_id) == {"EXPIRED": 1}
    with database.tenant_session(owner.tenant_id) as session:
        judged = session.get(Prediction, old_id)
        assert judged is not None
        assert (judged.was_accurate, judged.actual_value) == (True, 1.0)
        assert judged.validated_at is not None
    predictions = active(database, owner.tenant_id)
    with database.tenant_session(owner.tenant_id) as session:
        live = population_ids(
            session, prediction_type="CONVERSION", as_of=utcnow(), mode="point_in_time"
        )
    assert set(predictions) == {int(i) for i in live}
    assert all(p.valid_until > utcnow() for p in predictions.values())
