"""The domain hooks: which events a scoring run, a validation, a CTA and a portfolio run emit,
with what data; nothing at all without subscriptions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.ctas.service import generate_cta
from propensity.db import Database
from propensity.jobs import JobQueue
from propensity.models import ModelVersion, Role, WebhookDelivery, WebhookEvent
from propensity.predictions.scoring import Scored, ScoringRun
from propensity.predictions.service import record_run
from propensity.predictions.validation import validate_expired
from propensity.settings import Settings
from propensity.webhooks import hooks
from tests.ctas.factories import NOW, make_account, make_prediction
from tests.factories import make_tenant_user
from tests.jobs.support import own_queue
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import fast_settings, subscribe

ALL = (
    "prediction.created",
    "prediction.high_risk",
    "churn.alert",
    "prediction.completed",
    "prediction.validated",
    "cta.auto_generated",
    "model.trained",
)


@pytest.fixture
def cfg_fast(settings: Settings) -> Settings:
    return fast_settings(settings)


@pytest.fixture
def queue(cfg_fast: Settings, database: Database) -> Iterator[JobQueue]:
    with own_queue(cfg_fast, database) as q:  # bound, never consumed: only what is queued
        yield q


@pytest.fixture
def tenant_id(database: Database, settings: Settings) -> int:
    return make_tenant_user(database, settings, role=Role.ADMIN).tenant_id


def events(database: Database) -> list[tuple[str, dict[str, Any]]]:
    with database.system_session() as session:
        rows = session.scalars(sa.select(WebhookEvent).order_by(WebhookEvent.created_at))
        return [(row.type, json.loads(row.body)["data"]) for row in rows]


def churn_run(session: Session) -> ScoringRun:
    version = ModelVersion(
        prediction_type="CHURN",
        population="account",
        version_number=1,
        name="Churn v1",
        status="active",
        threshold=0.5,
    )
    session.add(version)
    accounts = [make_account(session, external_id=f"acct-{i}") for i in range(3)]
    session.flush()
    results = [
        Scored(
            entity_id=account.id,
            external_id=account.external_id,
            probability=p,
            predicted_value=None,
            confidence=0.8,
            outputs={},
            contributions={},
        )
        for account, p in zip(accounts, (0.6, 0.95, 0.1), strict=True)
    ]
    return ScoringRun(version=version, as_of=NOW, results=results)


def test_a_churn_run_emits_created_high_risk_and_churn_alert(
    cfg_fast: Settings, database: Database, queue: JobQueue, tenant_id: int
) -> None:
    subscribe(database, cfg_fast, tenant_id, Receiver(), events=ALL)
    with database.tenant_session(tenant_id) as session:
        run = churn_run(session)
        assert record_run(session, run=run, settings=cfg_fast) == 3
    emitted = dict(events(database))
    assert set(emitted) == {"prediction.created", "prediction.high_risk", "churn.alert"}
    created = emitted["prediction.created"]
    assert (created["count"], created["entityType"], created["truncated"]) == (3, "customer", False)
    assert created["externalIds"] == ["acct-0", "acct-1", "acct-2"]
    assert (created["predictionType"], created["population"]) == ("CHURN", "account")
    assert (created["modelVersion"], created["asOf"]) == ("v1", "2026-06-01T09:30:00Z")
    alert = emitted["churn.alert"]
    assert alert == emitted["prediction.high_risk"]
    assert alert["cutoffs"] == {"high": 0.5, "critical": 0.8}
    assert alert["count"] == 2
    assert [(e["externalId"], e["probability"], e["riskCategory"]) for e in alert["entities"]] == [
        ("acct-1", 0.95, "critical"),
        ("acct-0", 0.6, "high"),
    ]
    assert queue.pending_count() == 3  # one delivery job per event (one subscription)


def test_without_subscriptions_nothing_is_written(
    cfg_fast: Settings, database: Database, queue: JobQueue, tenant_id: int
) -> None:
    with database.tenant_session(tenant_id) as session:
        run = churn_run(session)
        record_run(session, run=run, settings=cfg_fast)
    subscribe(database, cfg_fast, tenant_id, Receiver(), events=("model.trained",))
    with database.tenant_session(tenant_id) as session:
        record_run(session, run=run, settings=cfg_fast)  # someone listens, not to these
    assert events(database) == []
    assert queue.pending_count() == 0


def test_an_auto_generated_cta_and_a_validation_run_are_announced(
    cfg_fast: Settings, database: Database, queue: JobQueue, tenant_id: int
) -> None:
    subscribe(database, cfg_fast, tenant_id, Receiver(), events=ALL)
    with database.tenant_session(tenant_id) as session:
        account = make_account(session)
        prediction = make_prediction(session, customer=account)
        outcome = generate_cta(
            session, customer=account, prediction=prediction, threshold=0.5, user_id=None, now=NOW
        )
        assert outcome.cta is not None
        churned = make_account(session, external_id="gone")
        churned.churned_at = NOW - timedelta(days=50)
        make_prediction(
            session, customer=churned, probability=0.9, predicted_at=NOW - timedelta(days=100)
        )
        earlier = make_account(session, external_id="earlier")
        earlier.churned_at = NOW - timedelta(days=200)
        make_prediction(
            session, customer=earlier, probability=0.9, predicted_at=NOW - timedelta(days=100)
        )
        assert validate_expired(session, now=NOW, tolerance_points=5.0) == 2
    emitted = dict(events(database))
    cta = emitted["cta.auto_generated"]
    assert (cta["id"], cta["accountId"], cta["predictionId"]) == (
        outcome.cta.id,
        account.id,
        prediction.id,
    )
    assert cta["type"] == outcome.cta.type and cta["status"] == "OPEN"
    assert emitted["prediction.validated"] == {
        "scope": "customers",
        "judged": 2,
        "accurate": 1,
        "inaccurate": 0,
        "undetermined": 1,
        "byType": {"CHURN": {"accurate": 1, "inaccurate": 0, "undetermined": 1}},
        "validatedAt": "2026-06-01T09:30:00Z",
    }


def test_a_rerun_job_announces_its_completion_once(
    cfg_fast: Settings, database: Database, queue: JobQueue, tenant_id: int
) -> None:
    subscribe(database, cfg_fast, tenant_id, Receiver(), events=("prediction.completed",))
    for _ in range(2):
        with database.tenant_session(tenant_id) as session:
            hooks.portfolio_completed(session, result={"scored": 5}, job_id="job-1")
    assert events(database) == [("prediction.completed", {"scored": 5, "jobId": "job-1"})]
    with database.system_session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == 1


def test_a_trained_model_is_announced_with_its_headline_metrics(
    cfg_fast: Settings, database: Database, queue: JobQueue, tenant_id: int
) -> None:
    subscribe(database, cfg_fast, tenant_id, Receiver(), events=("model.trained",))
    with database.tenant_session(tenant_id) as session:
        version = ModelVersion(
            prediction_type="CONVERSION",
            population="lead",
            version_number=4,
            name="Conversion v4",
            status="active",
            algorithm="xgboost",
            metrics={"roc_auc": 0.81, "evaluated_on": "held-out", "curve": [1, 2]},
            training_seconds=2.5,
            trained_at=NOW,
        )
        session.add(version)
        session.flush()
        hooks.model_trained(session, version=version, job_id="job-9")
        version_id = version.id
    assert events(database) == [
        (
            "model.trained",
            {
                "modelId": str(version_id),
                "version": "v4",
                "predictionType": "CONVERSION",
                "population": "lead",
                "algorithm": "xgboost",
                "status": "active",
                "metrics": {"roc_auc": 0.81, "evaluated_on": "held-out"},
                "trainingSeconds": 2.5,
                "trainedAt": "2026-06-01T09:30:00Z",
                "jobId": "job-9",
            },
        )
    ]
