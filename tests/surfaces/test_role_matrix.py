"""Who may write or spend, route by route: every route that writes refuses a viewer (403),
except the few that read by POST, and those refuse a viewer as soon as answering would need
a fresh prediction (it spends the tenant's quotas); a stored answer is still a viewer's."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.models import Lead, Role
from propensity.settings import Settings
from propensity.training.service import train_prediction_type
from tests.factories import make_simulated_tenant, make_tenant_user

WRITES = ("post", "put", "patch", "delete")
# Routes a viewer may call with a body: signing in, and the documents' reads by POST, which
# refuse a viewer where a fresh prediction would be made (tested below).
VIEWER_MAY_POST = {
    ("post", "/api/auth/login"),
    ("post", "/api/auth/register"),
    ("post", "/api/customers/segment"),
    ("post", "/api/crm/accounts/{account_id}/ml/predict"),
    ("post", "/api/ml/predict/conversion"),
    ("post", "/api/lead-scoring/leads/{lead_id}/ml/predict"),
    ("post", "/api/lead-scoring/leads/{lead_id}/ml/predict-score"),
    ("post", "/api/lead-scoring/leads/{lead_id}/ml/predict-time"),
}


def test_every_write_route_refuses_a_viewer(
    client: TestClient, database: Database, settings: Settings
) -> None:
    make_tenant_user(database, settings, slug="acme")
    viewer = make_tenant_user(
        database, settings, slug="acme", role=Role.VIEWER, existing_tenant=True
    )
    headers = {**viewer.headers, "X-Tenant-ID": "acme"}
    spec = client.get("/openapi.json").json()
    checked = 0
    for path, operations in sorted(spec["paths"].items()):
        for method in operations:
            if method not in WRITES or (method, path) in VIEWER_MAY_POST:
                continue
            url = re.sub(r"\{[^}]+\}", "1", path)
            response = client.request(method.upper(), url, json={}, headers=headers)
            assert response.status_code == 403, (method, path, response.status_code)
            checked += 1
    assert checked >= 25
    # The allowlist names real routes only.
    known = {(m, p) for p, ops in spec["paths"].items() for m in ops}
    assert known >= VIEWER_MAY_POST


@pytest.mark.slow
def test_a_viewer_reads_stored_predictions_but_makes_no_fresh_one(
    client: TestClient, database: Database, settings: Settings
) -> None:
    admin = make_simulated_tenant(database, settings, slug="roles", leads=400)
    train_prediction_type(database, tenant_id=admin.tenant_id, prediction_type="CONVERSION")
    viewer = make_tenant_user(
        database, settings, slug="roles", role=Role.VIEWER, existing_tenant=True
    )
    analyst = make_tenant_user(
        database, settings, slug="roles", role=Role.ANALYST, existing_tenant=True
    )
    with database.tenant_session(admin.tenant_id) as session:
        lead_id = session.scalars(sa.select(Lead.id).order_by(Lead.id).limit(1)).one()

    def as_(user: object) -> dict[str, str]:
        return {**user.headers, "X-Tenant-ID": "roles"}  # type: ignore[attr-defined]

    predict = f"/api/lead-scoring/leads/{lead_id}/ml/predict"
    score = f"/api/ml/leads/{lead_id}/score"
    # Nothing stored yet: a viewer may not make it.
    assert client.post(predict, json={}, headers=as_(viewer)).status_code == 403
    assert client.get(score, headers=as_(viewer)).status_code == 403
    # An analyst makes it; then the viewer reads it, cached.
    assert client.post(predict, json={}, headers=as_(analyst)).status_code == 200
    read = client.post(predict, json={}, headers=as_(viewer))
    assert read.status_code == 200 and read.json()["prediction"]["cached"] is True
    assert client.get(score, headers=as_(viewer)).json()["data"]["cached"] is True
    # Asking for a fresh one is spending again.
    forced = {"forceRefresh": True}
    assert client.post(predict, json=forced, headers=as_(viewer)).status_code == 403
    assert client.get(score + "?refresh=true", headers=as_(viewer)).status_code == 403
    conversion = {"leadIds": [lead_id], "timeframe": "30d"}
    assert (
        client.post("/api/ml/predict/conversion", json=conversion, headers=as_(viewer)).status_code
        == 200
    )
