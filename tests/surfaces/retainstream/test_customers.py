"""GET /api/customers/{customerId}: the subscriber's churn prediction comes from the serving
data plane, so a prediction made through RetainStream is the cached answer of the next call
(no new row), and one that is no longer valid is scored again."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.db import Database, utcnow
from propensity.models import Customer, ModelVersion, Prediction, Role
from propensity.settings import Settings
from propensity.timefmt import iso_z
from tests.factories import make_simulated_tenant, make_tenant_user
from tests.surfaces.retainstream.helpers import trained_tenant


def _predictions(database: Database, tenant_id: int, customer_id: int) -> list[Prediction]:
    with database.tenant_session(tenant_id) as session:
        rows = list(
            session.scalars(
                sa.select(Prediction)
                .where(Prediction.customer_id == customer_id, Prediction.prediction_type == "CHURN")
                .order_by(Prediction.id)
            )
        )
        session.expunge_all()
    return rows


def _live_subscribers(database: Database, tenant_id: int) -> list[tuple[int, str]]:
    with database.tenant_session(tenant_id) as session:
        rows = session.execute(
            sa.select(Customer.id, Customer.external_id)
            .where(
                Customer.kind == "subscriber",
                Customer.churned_at.is_(None),
                sa.or_(Customer.churned.is_(None), Customer.churned.is_(False)),
            )
            .order_by(Customer.id)
        ).all()
    return [(int(i), str(e)) for i, e in rows]


def test_a_prediction_made_through_retainstream_is_the_cached_answer_of_the_next_call(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = trained_tenant(database, settings, scored=False)
    tenant = user.tenant_id
    with database.tenant_session(tenant) as session:
        active_id = session.scalars(
            sa.select(ModelVersion.id).where(ModelVersion.status == "active")
        ).one()
    (first_id, first_ext), (second_id, second_ext) = _live_subscribers(database, tenant)[:2]
    assert _predictions(database, tenant, second_id) == []

    # Never scored: the customer call scores, records and commits the subscriber's prediction.
    made = client.get(f"/api/customers/{second_ext}", headers=user.headers)
    assert made.status_code == 200
    data = made.json()["data"]
    [row] = _predictions(database, tenant, second_id)
    assert (row.status, row.model_version_id) == ("ACTIVE", active_id)
    assert row.probability is not None
    assert data["churn_probability"] == round(row.probability, 4)
    assert data["prediction_date"] == iso_z(row.predicted_at)

    # The second call (by external or internal id) is served that prediction: no new row.
    for key in (second_ext, str(second_id)):
        again = client.get(f"/api/customers/{key}", headers=user.headers).json()["data"]
        assert again["churn_probability"] == data["churn_probability"]
        assert again["prediction_date"] == data["prediction_date"]
    assert [p.id for p in _predictions(database, tenant, second_id)] == [row.id]

    # A prediction made by RetainStream's scoring run is the customer call's answer too.
    analyst = make_tenant_user(
        database, settings, slug="sim", role=Role.ANALYST, existing_tenant=True
    )
    run = client.post("/api/predictions/generate", json={"sample_size": 1}, headers=analyst.headers)
    assert run.status_code == 200 and run.json()["data"]["predictions_generated"] == 1
    [generated] = _predictions(database, tenant, first_id)
    shown = client.get(f"/api/customers/{first_ext}", headers=user.headers).json()["data"]
    assert shown["churn_probability"] == round(generated.probability or 0.0, 4)
    assert shown["prediction_date"] == iso_z(generated.predicted_at)
    assert [p.id for p in _predictions(database, tenant, first_id)] == [generated.id]


def test_a_prediction_no_longer_valid_is_scored_again(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = trained_tenant(database, settings)
    tenant = user.tenant_id
    customer_id, external_id = _live_subscribers(database, tenant)[0]
    [stored] = _predictions(database, tenant, customer_id)
    with database.tenant_session(tenant) as session:
        session.execute(
            sa.update(Prediction)
            .where(Prediction.id == stored.id)
            .values(valid_until=utcnow() - timedelta(minutes=1))
        )

    data = client.get(f"/api/customers/{external_id}", headers=user.headers).json()["data"]
    old, fresh = _predictions(database, tenant, customer_id)
    assert old.id == stored.id and old.status == "SUPERSEDED"
    assert fresh.status == "ACTIVE" and fresh.predicted_at > stored.predicted_at
    assert data["prediction_date"] == iso_z(fresh.predicted_at)
    assert data["churn_probability"] == round(fresh.probability or 0.0, 4)


def test_without_a_trained_model_a_customer_has_no_prediction(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = make_simulated_tenant(database, settings, slug="untrained", subscribers=8)
    _, external_id = _live_subscribers(database, user.tenant_id)[0]
    response = client.get(f"/api/customers/{external_id}", headers=user.headers)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["user_id"] == external_id
    assert (data["churn_probability"], data["prediction_date"]) == (None, None)
    with database.tenant_session(user.tenant_id) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Prediction)) == 0
