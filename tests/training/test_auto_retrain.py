"""Automatic retraining on simulated tenants, real training and the real job queue: a drift
check above the threshold enqueues one job (none when off, none twice), and the job replaces
the champion only with a challenger that has a lower log-loss on the same holdout."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from propensity.db import Database
from propensity.jobs import Job, start_embedded_consumer
from propensity.mlconfig.service import load_ml_config, update_ml_config
from propensity.models import Lead, ModelVersion, Prediction
from propensity.monitoring.store import latest_drift
from propensity.monitoring.tasks import check_drift
from propensity.predictions.batch import score_portfolio
from propensity.settings import Settings
from propensity.training.auto_retrain import AUTO_RETRAIN, plan_auto_retrains
from propensity.training.service import train_prediction_type
from tests.factories import make_simulated_tenant
from tests.jobs.support import job_row, own_queue, wait_for_status
from tests.monitoring.helpers import DATA_END, trained_lead_tenant

LEADS = 1200


def _shift_open_budgets(database: Database, tenant_id: int) -> None:
    """Imported shifted data: every open lead's budget four times what it was."""
    with database.tenant_session(tenant_id) as session:
        session.execute(
            sa.update(Lead)
            .where(Lead.converted_at.is_(None), Lead.lost_at.is_(None))
            .values(budget=Lead.budget * 4)
        )


def _stored_drift(database: Database, tenant_id: int, model_id: int) -> float:
    with database.tenant_session(tenant_id) as session:
        stored = latest_drift(session, tenant_id=tenant_id, model_id=model_id)
    assert stored is not None and isinstance(stored["overallDrift"], float)
    return float(stored["overallDrift"])


def _threshold(database: Database, tenant_id: int) -> float:
    with database.tenant_session(tenant_id) as session:
        return load_ml_config(session, tenant_id=tenant_id).training.retrainThreshold


def _set_auto_retrain(database: Database, tenant_id: int, *, on: bool) -> None:
    with database.tenant_session(tenant_id) as session:
        update_ml_config(session, tenant_id=tenant_id, patch={"training": {"autoRetrain": on}})


def _versions(database: Database, tenant_id: int) -> dict[int, ModelVersion]:
    with database.tenant_session(tenant_id) as session:
        return {v.id: v for v in session.scalars(sa.select(ModelVersion))}


def _run_triggered_retrain(
    database: Database, settings: Settings, tenant_id: int, champion_id: int
) -> Job:
    """Shifted data, the daily drift check, the nightly planner, then the queued job runs."""
    _shift_open_budgets(database, tenant_id)
    check_drift(database, now=DATA_END)
    assert _stored_drift(database, tenant_id, champion_id) >= _threshold(database, tenant_id)
    with own_queue(settings, database) as queue:
        consumer = start_embedded_consumer(settings, database=database, queue=queue, periodic=False)
        try:
            (job_id,) = plan_auto_retrains(database, now=DATA_END)
            job = wait_for_status(database, job_id, "completed", "failed", timeout=180)
        finally:
            consumer.stop()
    assert job.status == "completed", job.error
    assert job.type == AUTO_RETRAIN and job.progress == 1.0
    return job


def test_drift_above_the_threshold_enqueues_one_job_and_no_second_while_it_is_pending(
    database: Database, settings: Settings
) -> None:
    user, model_id = trained_lead_tenant(database, settings)
    tenant_id = user.tenant_id
    with own_queue(settings, database):
        # Unshifted data: the stored check stays below the threshold, nothing is queued.
        check_drift(database, now=DATA_END)
        assert _stored_drift(database, tenant_id, model_id) < _threshold(database, tenant_id)
        assert plan_auto_retrains(database, now=DATA_END) == []

        _shift_open_budgets(database, tenant_id)
        check_drift(database, now=DATA_END)
        drift = _stored_drift(database, tenant_id, model_id)
        assert drift >= _threshold(database, tenant_id)

        _set_auto_retrain(database, tenant_id, on=False)
        assert plan_auto_retrains(database, now=DATA_END) == []

        _set_auto_retrain(database, tenant_id, on=True)
        (job_id,) = plan_auto_retrains(database, now=DATA_END)
        job = job_row(database, job_id)
        assert job.type == AUTO_RETRAIN and job.status == "queued"
        assert job.params["modelId"] == model_id
        trigger: dict[str, Any] = job.params["trigger"]
        assert trigger["kind"] == "drift" and trigger["value"] == drift
        # Queued, not yet run (no consumer): a later check, still above the threshold, adds
        # no second job for the model.
        later = DATA_END + timedelta(hours=6)
        check_drift(database, now=later)
        assert _stored_drift(database, tenant_id, model_id) >= _threshold(database, tenant_id)
        assert plan_auto_retrains(database, now=later) == []
    # Nothing was trained or activated by planning alone.
    assert [v.status for v in _versions(database, tenant_id).values()] == ["active"]


def test_an_accuracy_drop_on_validated_predictions_also_enqueues_a_job(
    database: Database, settings: Settings
) -> None:
    user, model_id = trained_lead_tenant(database, settings)
    score_portfolio(
        lambda: database.tenant_session(user.tenant_id),
        prediction_type="CONVERSION",
        as_of=DATA_END,
        settings=settings,
    )
    with own_queue(settings, database):
        assert plan_auto_retrains(database, now=DATA_END) == []  # nothing validated yet
        # The outcomes arrive: two in three predictions turn out wrong.
        with database.tenant_session(user.tenant_id) as session:
            ids = session.scalars(sa.select(Prediction.id).order_by(Prediction.id)).all()
            for i, prediction_id in enumerate(ids):
                session.execute(
                    sa.update(Prediction)
                    .where(Prediction.id == prediction_id)
                    .values(
                        was_accurate=i % 3 == 0,
                        actual_value=0.0,
                        validated_at=DATA_END - timedelta(days=1),
                    )
                )
        (job_id,) = plan_auto_retrains(database, now=DATA_END)
    trigger = job_row(database, job_id).params["trigger"]
    assert trigger["kind"] == "accuracy" and trigger["value"] >= trigger["threshold"]
    assert job_row(database, job_id).params["modelId"] == model_id


def test_a_challenger_with_a_lower_holdout_log_loss_replaces_the_champion(
    database: Database, settings: Settings
) -> None:
    # The champion saw a sample of the rows (1,000); the challenger sees all of them.
    user = make_simulated_tenant(database, settings, leads=LEADS)
    champion = train_prediction_type(
        database, tenant_id=user.tenant_id, prediction_type="CONVERSION", max_rows=1000
    )
    job = _run_triggered_retrain(database, settings, user.tenant_id, champion.version_id)

    result = job.result
    assert result is not None and result["decision"] == "promoted", result
    holdout = result["holdout"]
    assert holdout["challengerLogLoss"] < holdout["championLogLoss"]
    assert holdout["rows"] > 0 and holdout["split"] == "time"
    assert result["championId"] == champion.version_id
    versions = _versions(database, user.tenant_id)
    challenger = versions[result["challengerId"]]
    assert challenger.status == "active" and challenger.job_id == job.id
    assert versions[champion.version_id].status == "inactive"
    assert challenger.status_history[-1]["reason"] == result["reason"]


def test_the_champion_stays_when_the_challenger_is_not_better(
    database: Database, settings: Settings
) -> None:
    # The champion was trained on every lead; then 70% of them were deleted, so the challenger
    # learns from far less data and loses on the remaining leads' holdout.
    user = make_simulated_tenant(database, settings, leads=LEADS, seed=5)
    champion = train_prediction_type(
        database, tenant_id=user.tenant_id, prediction_type="CONVERSION"
    )
    with database.tenant_session(user.tenant_id) as session:
        ids = session.scalars(sa.select(Lead.id).order_by(Lead.id)).all()
        session.execute(sa.delete(Lead).where(Lead.id.in_([i for i in ids if i % 10 < 7])))
    job = _run_triggered_retrain(database, settings, user.tenant_id, champion.version_id)

    result = job.result
    assert result is not None and result["decision"] == "kept_champion", result
    holdout = result["holdout"]
    assert holdout["challengerLogLoss"] >= holdout["championLogLoss"]
    assert "not below" in result["reason"]
    versions = _versions(database, user.tenant_id)
    assert versions[champion.version_id].status == "active"
    assert versions[result["challengerId"]].status == "retired"
    # The drift check the job acted on is not acted on again; the next day's check is.
    with own_queue(settings, database):
        assert plan_auto_retrains(database, now=DATA_END) == []
        next_day = DATA_END + timedelta(days=1)
        check_drift(database, now=next_day)
        assert len(plan_auto_retrains(database, now=next_day)) == 1


def test_the_job_and_its_nightly_planner_are_registered() -> None:
    from propensity.jobs.registry import discover_handlers, lookup, periodic_specs

    discover_handlers()
    assert lookup(AUTO_RETRAIN) is not None
    specs = {spec.name: spec for spec in periodic_specs()}
    assert "training.auto_retrain" in specs and "monitoring.daily_drift" in specs
