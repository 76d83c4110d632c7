"""batch-predict really runs: a `score_portfolio` job whose progress and result show at
/api/v1/jobs/{id}, scoring the accounts the request selected."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.db import Database, utcnow
from propensity.jobs import JobQueue, start_embedded_consumer
from propensity.models import Customer, Prediction
from propensity.settings import Settings
from tests.jobs.support import own_queue, wait_for
from tests.surfaces.customer_success.helpers import account_ids, call, trained_accounts


def _scored(database: Database, tenant_id: int) -> set[int]:
    with database.tenant_session(tenant_id) as session:
        return {
            int(i)
            for i in session.scalars(
                sa.select(Prediction.customer_id).where(
                    Prediction.prediction_type == "CHURN", Prediction.status == "ACTIVE"
                )
            )
        }


def _finish(client: TestClient, user_headers: dict[str, str], status_url: str) -> dict:  # type: ignore[type-arg]
    def done() -> dict | None:  # type: ignore[type-arg]
        body = client.get(status_url, headers=user_headers).json()
        return body if body["status"] in ("completed", "failed") else None

    return wait_for(done, timeout=120, what="the batch job")


def test_batch_predict_queues_a_job_that_scores_the_selected_accounts(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = trained_accounts(database, settings)
    ids = account_ids(database, user.tenant_id)
    # Three accounts renew soon: the renewal_due segment is exactly them.
    soon = ids[:3]
    with database.tenant_session(user.tenant_id) as session:
        session.execute(sa.update(Customer).values(renewal_date=None))
        for days, account_id in zip((10, 20, 30), soon, strict=True):
            session.execute(
                sa.update(Customer)
                .where(Customer.id == account_id)
                .values(renewal_date=(utcnow() + timedelta(days=days)).date())
            )
    queue: JobQueue
    with own_queue(settings, database) as queue:
        queued = call(
            client,
            user,
            "POST",
            "/portfolio/ml/batch-predict",
            json={"predictionType": "CHURN", "maxAccounts": 2, "priorityFilter": "renewal_due"},
            expect=202,
        )
        assert queued["message"] == "Batch prediction queued"
        assert queued["predictionType"] == "CHURN" and queued["maxAccounts"] == 2
        assert queued["selectedAccounts"] == 2
        assert queued["statusUrl"] == f"/api/v1/jobs/{queued['jobId']}"
        with start_embedded_consumer(settings, database=database, queue=queue, periodic=False):
            first = _finish(client, user.headers, queued["statusUrl"])
            assert first["status"] == "completed", first
            assert first["result"]["scored"] == 2 and first["progress"] == 1.0
            assert _scored(database, user.tenant_id) == set(soon[:2])
            unfiltered = call(
                client,
                user,
                "POST",
                "/portfolio/ml/batch-predict",
                json={"predictionType": "CHURN", "maxAccounts": 25},
                expect=202,
            )
            assert unfiltered["selectedAccounts"] is None
            second = _finish(client, user.headers, unfiltered["statusUrl"])
    assert second["status"] == "completed", second
    assert second["result"]["scored"] == 25
    # Accounts without a prediction go first, so the 25 are all new ones.
    assert len(_scored(database, user.tenant_id)) == 27


def test_an_account_scored_in_bulk_without_its_narrative_is_explained_on_request(
    client: TestClient, database: Database, settings: Settings
) -> None:
    from functools import partial

    from propensity.predictions.batch import score_portfolio

    user = trained_accounts(database, settings)
    ids = account_ids(database, user.tenant_id)
    score_portfolio(
        partial(database.tenant_session, user.tenant_id),
        prediction_type="CHURN",
        kind="account",
        entity_ids=ids,
        settings=settings,
    )
    with database.tenant_session(user.tenant_id) as session:
        bare = session.scalars(
            sa.select(Prediction.customer_id).where(
                Prediction.status == "ACTIVE", Prediction.explanation.is_(None)
            )
        ).first()
    assert bare is not None, "the batch stores narratives only for accounts at risk"
    answer = call(client, user, "GET", f"/{bare}/ml/churn-risk")
    assert answer["cached"] is False
    assert answer["data"]["explanation"] and answer["data"]["riskFactors"] is not None
    again = call(client, user, "GET", f"/{bare}/ml/churn-risk")
    assert again["cached"] is True
    assert again["data"]["predictionId"] == answer["data"]["predictionId"]
