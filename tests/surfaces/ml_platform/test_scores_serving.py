"""`GET /api/ml/leads/{leadId}/score` through the serving data plane: a second call answers
from the stored prediction (no new row), with or without a running champion/challenger
deployment, and a challenger-routed lead keeps its challenger's answer."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.models import Prediction
from propensity.registry.routing import to_challenger
from propensity.settings import Settings
from tests.surfaces.ml_platform.helpers_monitoring import monitored_tenant
from tests.surfaces.ml_platform.helpers_scores import call, lead_ids, trained_leads


def _rows(database: Database, tenant_id: int, lead_id: int) -> list[tuple[int, str, int, str]]:
    """(id, status, model version, served by) of the lead's CONVERSION predictions."""
    with database.tenant_session(tenant_id) as session:
        rows = session.execute(
            sa.select(
                Prediction.id,
                Prediction.status,
                Prediction.model_version_id,
                Prediction.served_by,
            )
            .where(Prediction.lead_id == lead_id, Prediction.prediction_type == "CONVERSION")
            .order_by(Prediction.id)
        )
        return [(int(i), str(s), int(m), str(b)) for i, s, m, b in rows]


def test_a_second_get_is_served_from_the_stored_prediction(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = trained_leads(database, settings, slug="cached")
    lead_id = lead_ids(database, user.tenant_id)[0]
    path = f"/leads/{lead_id}/score"
    first = call(client, user, "GET", path, params={"explain": "true"})["data"]
    assert first["cached"] is False
    stored = _rows(database, user.tenant_id, lead_id)
    assert [row[0] for row in stored] == [first["predictionId"]]
    second = call(client, user, "GET", path, params={"explain": "true"})["data"]
    assert second["cached"] is True and second["predictionId"] == first["predictionId"]
    assert second["score"] == first["score"] and second["modelId"] == first["modelId"]
    assert second["explanation"] == first["explanation"]
    # No new row, and the first one is still the lead's answer.
    assert _rows(database, user.tenant_id, lead_id) == stored
    assert stored[0][1] == "ACTIVE"


def test_during_a_deployment_a_challenger_lead_is_cached_on_the_second_call(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user, (challenger, champion) = monitored_tenant(
        database, settings, slug="abscore", seeds=(0, 1)
    )
    deploy = client.post(
        f"/api/ml/models/{challenger}/deploy",
        headers=user.headers,
        json={"aBTest": {"enabled": True, "trafficSplit": 0.5, "duration": "7d"}},
    )
    assert deploy.status_code == 200, deploy.text
    ids = lead_ids(database, user.tenant_id)[:12]
    routed = to_challenger(deploy.json()["data"]["deploymentId"], 0.5, ids)
    to_challenger_lead = next(i for i, to_it in zip(ids, routed, strict=True) if to_it)
    to_champion_lead = next(i for i, to_it in zip(ids, routed, strict=True) if not to_it)
    for lead_id, model_id, role in (
        (to_challenger_lead, challenger, "challenger"),
        (to_champion_lead, champion, "champion"),
    ):
        path = f"/leads/{lead_id}/score"
        first = call(client, user, "GET", path)["data"]
        assert first["cached"] is False and first["modelId"] == str(model_id)
        second = call(client, user, "GET", path)["data"]
        assert second["cached"] is True, (role, second)
        assert second["predictionId"] == first["predictionId"]
        assert second["modelId"] == str(model_id)
        rows = _rows(database, user.tenant_id, lead_id)
        assert rows == [(first["predictionId"], "ACTIVE", model_id, role)]
