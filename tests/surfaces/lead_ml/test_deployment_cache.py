"""During a champion/challenger deployment a lead routed to the challenger is served from
cache like any other (not re-scored, and charged, on every request), and the SCORE derived
from its conversion names the model that made it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.registry.routing import to_challenger
from propensity.settings import Settings
from propensity.training.service import train_prediction_type
from tests.surfaces.lead_ml.helpers import call, lead_tenant, open_lead_ids


def test_challenger_leads_are_cached_and_their_score_names_the_challenger(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user, config = lead_tenant(database, settings, slug="abcache")
    challenger = train_prediction_type(
        database,
        tenant_id=user.tenant_id,
        prediction_type="CONVERSION",
        seed=1,
        activate_when_done=False,
    ).version_id
    deploy = client.post(
        f"/api/ml/models/{challenger}/deploy",
        headers=user.headers,
        json={"aBTest": {"enabled": True, "trafficSplit": 0.5, "duration": "7d"}},
    )
    assert deploy.status_code == 200, deploy.text
    deployment = deploy.json()["data"]["deploymentId"]
    leads = open_lead_ids(database, user.tenant_id)[:40]
    mask = to_challenger(deployment, 0.5, leads)
    routed = [lead for lead, to_it in zip(leads, mask, strict=True) if to_it]
    assert routed
    lead = routed[0]

    first = call(client, user, "POST", f"/leads/{lead}/ml/predict", json={})["prediction"]
    again = call(client, user, "POST", f"/leads/{lead}/ml/predict", json={})["prediction"]
    assert first["modelVersionId"] == challenger
    assert again["cached"] is True and again["predictionId"] == first["predictionId"]

    score = call(client, user, "POST", f"/leads/{lead}/ml/predict-score")["prediction"]
    assert score["modelVersionId"] == challenger
    assert score["predictedScore"] == round(100 * first["probability"])
    cached_score = call(client, user, "POST", f"/leads/{lead}/ml/predict-score")["prediction"]
    assert cached_score["cached"] is True

    body = {"limit": 20, "minScore": 0}
    call(client, user, "POST", f"/{config}/ml/bulk-predict", json=body)
    repeat = call(client, user, "POST", f"/{config}/ml/bulk-predict", json=body)
    assert repeat["scored"] == 0 and repeat["cached"] == repeat["processed"] > 0
