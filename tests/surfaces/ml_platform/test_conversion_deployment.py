"""`POST /api/ml/predict/conversion` during a champion/challenger deployment: the leads routed
to the challenger get their prediction (id and factors) and are served from cache on the next
request, like the champion's."""

from __future__ import annotations

from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.registry.routing import to_challenger
from propensity.settings import Settings
from tests.surfaces.ml_platform.helpers_monitoring import monitored_tenant
from tests.surfaces.ml_platform.helpers_scores import lead_ids


def test_challenger_leads_get_their_prediction_and_its_cache(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user, (challenger, _champion) = monitored_tenant(
        database, settings, slug="abconv", seeds=(0, 1)
    )
    deploy = client.post(
        f"/api/ml/models/{challenger}/deploy",
        headers=user.headers,
        json={"aBTest": {"enabled": True, "trafficSplit": 0.5, "duration": "7d"}},
    )
    assert deploy.status_code == 200, deploy.text
    ids = lead_ids(database, user.tenant_id)[:8]
    routed = to_challenger(deploy.json()["data"]["deploymentId"], 0.5, ids)
    assert routed.any() and not routed.all()

    def predict() -> list[dict[str, object]]:
        response = client.post(
            "/api/ml/predict/conversion",
            headers=user.headers,
            json={"leadIds": ids, "timeframe": "30d", "includeFactors": True},
        )
        assert response.status_code == 200, response.text
        return list(response.json()["data"]["predictions"])

    first = predict()
    assert all(p["predictionId"] is not None and p["keyFactors"] for p in first), first
    again = predict()
    assert [p["predictionId"] for p in again] == [p["predictionId"] for p in first]
