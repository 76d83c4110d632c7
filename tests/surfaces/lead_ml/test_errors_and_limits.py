"""The documented errors of spec/lead-ml.md in its envelope, roles, tenant isolation and the
per-tenant rate limits. No model is trained here: the rule-based scorer makes predictions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.app import create_app
from propensity.db import Database
from propensity.models import Prediction, Role
from propensity.settings import Settings
from tests.factories import make_tenant_user
from tests.surfaces.lead_ml.helpers import BASE, call, lead_tenant, open_lead_ids

ENDPOINTS = (
    ("POST", "/leads/{lead}/ml/predict", {}),
    ("GET", "/leads/{lead}/ml/prediction", None),
    ("POST", "/leads/{lead}/ml/predict-time", {}),
    ("POST", "/leads/{lead}/ml/predict-score", {}),
    ("GET", "/leads/{lead}/ml/features", None),
    ("POST", "/{config}/ml/bulk-predict", {}),
    ("GET", "/{config}/ml/ranked-leads", None),
    ("GET", "/{config}/ml/top-leads", None),
    ("GET", "/{config}/ml/leads-by-tier?tier=top", None),
    ("GET", "/{config}/ml/accuracy", None),
    ("GET", "/{config}/ml/feature-importance", None),
    ("POST", "/predictions/{prediction}/validate", {"wasAccurate": True}),
)
SMALL = 120


@pytest.fixture
def tight_client(settings: Settings, database: Database) -> Iterator[TestClient]:
    tight = settings.model_copy(
        update={"lead_rate_limit_per_minute": "3/minute", "lead_rate_limit_per_hour": "5/hour"}
    )
    with TestClient(create_app(tight, database)) as test_client:
        yield test_client


def test_authentication_roles_isolation_and_missing_models(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user, config = lead_tenant(database, settings, leads=SMALL, train=False)
    lead = open_lead_ids(database, user.tenant_id)[0]
    made = call(client, user, "POST", f"/leads/{lead}/ml/predict", json={"ruleBasedOnly": True})
    prediction = made["prediction"]["predictionId"]
    ids = {"lead": lead, "config": config, "prediction": prediction}

    for method, path, body in ENDPOINTS:
        url = BASE + path.format(**ids)
        anonymous = client.request(method, url, json=body)
        assert anonymous.status_code == 401, url
        assert anonymous.json()["code"] == "UNAUTHORIZED"
        assert set(anonymous.json()) == {"error", "code", "details"}
    # The document's cookie works like the bearer token.
    client.cookies.set("token", user.token)
    assert client.get(f"{BASE}/leads/{lead}/ml/features").status_code == 200
    client.cookies.set("token", "not-a-token")
    # "Missing or invalid authentication" is the document's 401, for a bad cookie or bearer.
    assert client.get(f"{BASE}/leads/{lead}/ml/features").json()["code"] == "UNAUTHORIZED"
    client.cookies.clear()
    invalid = client.get(
        f"{BASE}/leads/{lead}/ml/features", headers={"Authorization": "Bearer not-a-token"}
    )
    assert invalid.status_code == 401 and invalid.json()["code"] == "UNAUTHORIZED"
    elsewhere = client.get(
        f"{BASE}/leads/{lead}/ml/features", headers={**user.headers, "X-Tenant-ID": "nobody"}
    )
    assert elsewhere.status_code == 403 and elsewhere.json()["code"] == "FORBIDDEN"
    assert elsewhere.json()["details"]["reason"] == "TENANT_MISMATCH"

    # Another tenant sees none of it: its lead, configuration or prediction is 404.
    other, _ = lead_tenant(database, settings, slug="other", leads=SMALL, train=False, seed=5)
    for method, path, body in ENDPOINTS:
        response = client.request(
            method, BASE + path.format(**ids), json=body, headers=other.headers
        )
        assert response.status_code == 404, (path, response.text)
        assert response.json()["code"] == "NOT_FOUND"
    # Its own equally numbered things are unaffected.
    with database.tenant_session(user.tenant_id) as session:
        validated = session.get(Prediction, prediction)
        assert validated is not None and validated.was_accurate is None

    # Without trained models the model endpoints say what to do.
    for path in ("/ml/predict", "/ml/predict-time", "/ml/predict-score"):
        unavailable = call(client, user, "POST", f"/leads/{lead}{path}", expect=503)
        assert unavailable["code"] == "MODEL_UNAVAILABLE"
        assert "train" in unavailable["details"]["hint"]
    call(client, user, "GET", f"/{config}/ml/feature-importance", expect=503)
    ruled = call(
        client, user, "POST", f"/{config}/ml/bulk-predict", json={"ruleBasedOnly": True, "limit": 5}
    )
    assert ruled["successful"] == 5
    assert all(p["result"]["method"] == "rule_based" for p in ruled["predictions"])
    ranked = call(client, user, "GET", f"/{config}/ml/ranked-leads")["rankings"]
    assert len(ranked) == 5 and ranked[0]["reasoning"].startswith("Rule-based")
    call(client, user, "POST", f"/{config}/ml/bulk-predict", json={"limit": 0}, expect=400)

    viewer = make_tenant_user(
        database, settings, slug=user.tenant_slug, role=Role.VIEWER, existing_tenant=True
    )
    call(client, viewer, "GET", f"/{config}/ml/top-leads")
    call(client, viewer, "POST", f"/leads/{lead}/ml/predict", json={"ruleBasedOnly": True})
    for method, path, body in (
        ("POST", f"/{config}/ml/bulk-predict", {}),
        ("POST", f"/predictions/{prediction}/validate", {"wasAccurate": False}),
    ):
        assert call(client, viewer, method, path, json=body, expect=403)["code"] == "FORBIDDEN"


def test_rate_limits_count_fresh_predictions_per_tenant(
    tight_client: TestClient, database: Database, settings: Settings
) -> None:
    user, config = lead_tenant(database, settings, leads=SMALL, train=False)
    first, second, third, fourth = open_lead_ids(database, user.tenant_id)[:4]
    body = {"ruleBasedOnly": True}
    call(tight_client, user, "POST", f"/leads/{first}/ml/predict", json=body)
    # A cached answer costs nothing.
    for _ in range(3):
        cached = call(tight_client, user, "POST", f"/leads/{first}/ml/predict", json=body)
        assert cached["prediction"]["cached"] is True
    call(tight_client, user, "POST", f"/leads/{second}/ml/predict", json=body)
    # A bulk request is cut where the per-minute limit (3) runs out: one more lead.
    bulk = call(
        tight_client,
        user,
        "POST",
        f"/{config}/ml/bulk-predict",
        json={"ruleBasedOnly": True, "limit": 4},
    )
    assert bulk["scored"] == 1 and bulk["cached"] == 2
    assert [p["error"] for p in bulk["predictions"]] == [
        None,
        None,
        None,
        "Rate limit reached; not scored",
    ]
    limited = tight_client.post(
        f"{BASE}/leads/{fourth}/ml/predict", json=body, headers=user.headers
    )
    assert limited.status_code == 429
    assert limited.json()["code"] == "RATE_LIMITED"
    assert int(limited.headers["Retry-After"]) >= 1
    with database.tenant_session(user.tenant_id) as session:
        assert (
            session.scalar(
                sa.select(sa.func.count(Prediction.id)).where(Prediction.lead_id == fourth)
            )
            == 0
        )
    assert third in [p["leadId"] for p in bulk["predictions"]]
    # Another tenant has its own limits.
    other, _ = lead_tenant(database, settings, slug="other", leads=SMALL, train=False, seed=5)
    lead = open_lead_ids(database, other.tenant_id)[0]
    call(tight_client, other, "POST", f"/leads/{lead}/ml/predict", json=body)
