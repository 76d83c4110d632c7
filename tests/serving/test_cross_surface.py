"""One serving path across surfaces: a lead's CONVERSION made through one surface is the cached
answer of every other surface that reads it (lead-ml and the ML platform share leads), with no
new row, during a champion/challenger deployment too. Accounts are read by the
customer-success surface only (tests/surfaces/customer_success/test_serving_cache.py pairs its
endpoints), subscribers by RetainStream only (tests/surfaces/retainstream/test_customers.py)."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.models import Prediction
from propensity.registry.routing import to_challenger
from propensity.settings import Settings
from propensity.training.service import train_prediction_type
from tests.factories import TenantUser
from tests.surfaces.lead_ml.helpers import lead_tenant, open_lead_ids

LEAD_ML = "/api/lead-scoring"
ML = "/api/ml"


def _rows(database: Database, tenant_id: int, lead_id: int) -> list[tuple[int, str, str]]:
    with database.tenant_session(tenant_id) as session:
        rows = session.execute(
            sa.select(Prediction.id, Prediction.status, Prediction.served_by)
            .where(Prediction.lead_id == lead_id, Prediction.prediction_type == "CONVERSION")
            .order_by(Prediction.id)
        )
        return [(int(i), str(s), str(b)) for i, s, b in rows]


def _predict(client: TestClient, user: TenantUser, lead_id: int) -> dict[str, object]:
    response = client.post(f"{LEAD_ML}/leads/{lead_id}/ml/predict", headers=user.headers, json={})
    assert response.status_code == 200, response.text
    return dict(response.json()["prediction"])


def _latest(client: TestClient, user: TenantUser, lead_id: int) -> dict[str, object]:
    response = client.get(
        f"{LEAD_ML}/leads/{lead_id}/ml/prediction",
        headers=user.headers,
        params={"type": "CONVERSION"},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _score(client: TestClient, user: TenantUser, lead_id: int) -> dict[str, object]:
    response = client.get(
        f"{ML}/leads/{lead_id}/score", headers=user.headers, params={"explain": "true"}
    )
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


def _conversion(client: TestClient, user: TenantUser, lead_ids: list[int]) -> list[object]:
    response = client.post(
        f"{ML}/predict/conversion", headers=user.headers, json={"leadIds": lead_ids}
    )
    assert response.status_code == 200, response.text
    return [p["predictionId"] for p in response.json()["data"]["predictions"]]


def test_a_lead_prediction_is_shared_by_lead_ml_and_the_ml_platform(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user, _ = lead_tenant(database, settings, slug="xsurface")
    first_lead, second_lead = open_lead_ids(database, user.tenant_id)[:2]

    # lead-ml makes it; the ML platform's score, its many-lead conversion and lead-ml's own
    # latest read serve it.
    made = _predict(client, user, first_lead)
    assert made["cached"] is False
    stored = _rows(database, user.tenant_id, first_lead)
    assert [row[0] for row in stored] == [made["predictionId"]]
    scored = _score(client, user, first_lead)
    assert scored["cached"] is True and scored["predictionId"] == made["predictionId"]
    assert _conversion(client, user, [first_lead]) == [made["predictionId"]]
    assert _latest(client, user, first_lead)["id"] == made["predictionId"]
    assert _rows(database, user.tenant_id, first_lead) == stored

    # The ML platform makes it; lead-ml's predict and latest read serve it.
    scored = _score(client, user, second_lead)
    assert scored["cached"] is False
    stored = _rows(database, user.tenant_id, second_lead)
    assert [row[0] for row in stored] == [scored["predictionId"]]
    again = _predict(client, user, second_lead)
    assert again["cached"] is True and again["predictionId"] == scored["predictionId"]
    assert _latest(client, user, second_lead)["id"] == scored["predictionId"]
    assert _conversion(client, user, [second_lead]) == [scored["predictionId"]]
    assert _rows(database, user.tenant_id, second_lead) == stored


def test_during_a_deployment_a_challenger_lead_is_shared_across_surfaces(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user, _ = lead_tenant(database, settings, slug="xdeploy")
    challenger = train_prediction_type(
        database,
        tenant_id=user.tenant_id,
        prediction_type="CONVERSION",
        seed=3,
        activate_when_done=False,
    ).version_id
    deploy = client.post(
        f"{ML}/models/{challenger}/deploy",
        headers=user.headers,
        json={"aBTest": {"enabled": True, "trafficSplit": 0.5, "duration": "7d"}},
    )
    assert deploy.status_code == 200, deploy.text
    ids = open_lead_ids(database, user.tenant_id)[:20]
    routed = to_challenger(deploy.json()["data"]["deploymentId"], 0.5, ids)
    by_lead_ml, by_platform = [i for i, to_it in zip(ids, routed, strict=True) if to_it][:2]

    made = _predict(client, user, by_lead_ml)
    assert made["cached"] is False
    scored = _score(client, user, by_lead_ml)
    assert scored["cached"] is True and scored["predictionId"] == made["predictionId"]
    assert scored["modelId"] == str(challenger)
    assert _rows(database, user.tenant_id, by_lead_ml) == [
        (int(str(made["predictionId"])), "ACTIVE", "challenger")
    ]

    scored = _score(client, user, by_platform)
    assert scored["cached"] is False and scored["modelId"] == str(challenger)
    again = _predict(client, user, by_platform)
    assert again["cached"] is True and again["predictionId"] == scored["predictionId"]
    assert _rows(database, user.tenant_id, by_platform) == [
        (int(str(scored["predictionId"])), "ACTIVE", "challenger")
    ]
