"""The documented errors of spec/customer-success-ml.md, in its envelope, and the daily
quotas per tenant."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.app import create_app
from propensity.db import Database
from propensity.models import Customer, Role
from propensity.settings import Settings
from tests.factories import TenantUser, make_tenant_user
from tests.surfaces.customer_success.helpers import BASE, account_ids, call, trained_accounts

ACCOUNT_ENDPOINTS = (
    ("POST", "/{id}/ml/predict", {"predictionType": "CHURN"}),
    ("GET", "/{id}/ml/churn-risk", None),
    ("GET", "/{id}/ml/health-insights", None),
    ("GET", "/{id}/ml/predictions", None),
    ("POST", "/{id}/ml/generate-cta", None),
)
PORTFOLIO_ENDPOINTS = (
    ("GET", "/portfolio/ml/high-risk", None),
    ("POST", "/portfolio/ml/batch-predict", {"predictionType": "CHURN"}),
    ("POST", "/portfolio/ml/generate-ctas", {"predictionType": "CHURN"}),
    ("POST", "/portfolio/ml/validate-predictions", None),
    ("GET", "/portfolio/ml/accuracy", None),
    ("GET", "/portfolio/ml/cta-stats", None),
    ("GET", "/portfolio/ml/status", None),
)


def _account(database: Database, tenant_id: int, kind: str = "account") -> int:
    with database.tenant_session(tenant_id) as session:
        customer = Customer(external_id=f"{kind}-1", kind=kind, name="Acme Corp")
        session.add(customer)
        session.commit()
        return customer.id


def test_authentication_then_tenant_context_are_required(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = make_tenant_user(database, settings)
    for method, path, body in ACCOUNT_ENDPOINTS + PORTFOLIO_ENDPOINTS:
        url = BASE + path.format(id=1)
        anonymous = client.request(method, url, json=body)
        assert anonymous.status_code == 401, url
        assert anonymous.json() == {
            "error": "User authentication required",
            "code": "AUTH_REQUIRED",
        }
        no_tenant = client.request(method, url, json=body, headers=user.headers)
        assert no_tenant.status_code == 400, url
        assert no_tenant.json()["error"] == "Tenant context required"
        assert no_tenant.json()["code"] == "TENANT_REQUIRED"
        other = client.request(
            method, url, json=body, headers={**user.headers, "X-Tenant-ID": "someone-else"}
        )
        assert other.status_code == 403, url


def test_bad_type_unknown_account_and_missing_model(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = make_tenant_user(database, settings)
    account = _account(database, user.tenant_id)
    subscriber = _account(database, user.tenant_id, kind="subscriber")

    for body in ({"predictionType": "CHURNED"}, {"predictionType": 3}, {}):
        bad = call(client, user, "POST", f"/{account}/ml/predict", json=body, expect=400)
        assert bad["error"] == "Invalid prediction type"
        assert bad["code"] == "INVALID_PREDICTION_TYPE"
        assert bad["allowed"] == ["CHURN", "HEALTH_TREND"]
    bad_filter = call(
        client, user, "GET", f"/{account}/ml/predictions", params={"type": "LTV"}, expect=400
    )
    assert bad_filter["error"] == "Invalid prediction type"

    for missing in (account + 1000, subscriber, "abc", 0):
        for method, path, body in ACCOUNT_ENDPOINTS:
            gone = call(client, user, method, path.format(id=missing), json=body, expect=404)
            assert gone["error"] == "Account not found" and gone["code"] == "ACCOUNT_NOT_FOUND"

    unavailable = call(
        client, user, "POST", f"/{account}/ml/predict", json={"predictionType": "CHURN"}, expect=503
    )
    assert unavailable["error"] == "ML service unavailable"
    assert unavailable["code"] == "ML_UNAVAILABLE"
    assert "train" in unavailable["reason"]
    call(client, user, "GET", f"/{account}/ml/health-insights", expect=503)
    status = call(client, user, "GET", "/portfolio/ml/status")
    assert status["available"] is False and "no churn or health model" in status["message"]

    no_prediction = call(client, user, "POST", f"/{account}/ml/generate-cta", expect=404)
    assert no_prediction == {
        "error": "No prediction found",
        "code": "PREDICTION_NOT_FOUND",
        "hint": f"Generate one first: POST /api/crm/accounts/{account}/ml/predict",
    }
    assert call(client, user, "GET", "/portfolio/ml/high-risk") == {
        "data": [],
        "count": 0,
        "total": 0,
    }
    for query in ({"minProbability": "1.5"}, {"limit": "0"}, {"minProbability": "x"}):
        call(client, user, "GET", "/portfolio/ml/high-risk", params=query, expect=400)
    filtered = call(
        client,
        user,
        "POST",
        "/portfolio/ml/batch-predict",
        json={"predictionType": "CHURN", "priorityFilter": "vip"},
        expect=400,
    )
    assert "priorityFilter" in filtered["error"]


def test_a_viewer_reads_but_cannot_generate_ctas_or_run_portfolio_jobs(
    client: TestClient, database: Database, settings: Settings
) -> None:
    viewer = make_tenant_user(database, settings, role=Role.VIEWER)
    call(client, viewer, "GET", "/portfolio/ml/status")
    call(client, viewer, "GET", "/portfolio/ml/cta-stats")
    for method, path, body in (
        ("POST", "/1/ml/generate-cta", None),
        ("POST", "/portfolio/ml/batch-predict", {"predictionType": "CHURN"}),
        ("POST", "/portfolio/ml/generate-ctas", {"predictionType": "CHURN"}),
        ("POST", "/portfolio/ml/validate-predictions", None),
    ):
        assert call(client, viewer, method, path, json=body, expect=403)["code"] == "FORBIDDEN"


@pytest.fixture
def tight_client(settings: Settings, database: Database) -> Iterator[TestClient]:
    tight = settings.model_copy(
        update={"cs_predict_daily_limit": "2/day", "cs_cta_daily_limit": "1/day"}
    )
    with TestClient(create_app(tight, database)) as test_client:
        yield test_client


def test_daily_quota_counts_fresh_predictions_per_tenant(
    tight_client: TestClient, database: Database, settings: Settings
) -> None:
    user: TenantUser = trained_accounts(database, settings)
    first, second, third = account_ids(database, user.tenant_id)[:3]
    body = {"predictionType": "CHURN"}
    call(tight_client, user, "POST", f"/{first}/ml/predict", json=body)
    # A cached answer costs nothing.
    for _ in range(3):
        assert call(tight_client, user, "POST", f"/{first}/ml/predict", json=body)["cached"]
    call(tight_client, user, "GET", f"/{second}/ml/churn-risk")
    limited = tight_client.post(
        f"{BASE}/{third}/ml/predict", json=body, headers=user.tenant_headers
    )
    assert limited.status_code == 429
    assert limited.json()["code"] == "RATE_LIMITED"
    assert int(limited.headers["Retry-After"]) >= 1
    # Nothing was stored for the refused request.
    with database.tenant_session(user.tenant_id) as session:
        from propensity.models import Prediction

        assert (
            session.scalar(
                sa.select(sa.func.count(Prediction.id)).where(Prediction.customer_id == third)
            )
            == 0
        )
    # Another tenant has its own quota.
    other = make_tenant_user(database, settings, slug="other")
    call(tight_client, other, "GET", "/portfolio/ml/status")
