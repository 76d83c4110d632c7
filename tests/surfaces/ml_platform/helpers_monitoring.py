"""A simulated lead tenant with a trained CONVERSION model and a caller for `/api/ml`, shared by
the monitoring, features and analytics contract tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.settings import Settings
from propensity.training.service import train_prediction_type
from tests.factories import TenantUser, make_simulated_tenant, make_tenant_user

BASE = "/api/ml"
LEADS = 400


def monitored_tenant(
    database: Database, settings: Settings, *, slug: str = "mon", seeds: tuple[int, ...] = (0,)
) -> tuple[TenantUser, list[int]]:
    """The tenant and its CONVERSION model ids, one per training seed (the last is active)."""
    user = make_simulated_tenant(database, settings, slug=slug, leads=LEADS)
    ids = [
        train_prediction_type(
            database, tenant_id=user.tenant_id, prediction_type="CONVERSION", seed=seed
        ).version_id
        for seed in seeds
    ]
    return user, ids


def stranger(database: Database, settings: Settings) -> TenantUser:
    """A user of another tenant, with no models."""
    return make_tenant_user(database, settings, slug="other")


def call(
    client: TestClient,
    user: TenantUser,
    path: str,
    *,
    expect: int = 200,
    params: dict[str, Any] | None = None,
) -> Any:
    response = client.get(BASE + path, headers=user.headers, params=params)
    assert response.status_code == expect, response.text
    body = response.json()
    assert body["success"] is (expect == 200)
    return body["data"] if expect == 200 else body["error"]


def assert_error(error: dict[str, Any], code: str) -> None:
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code and error["message"]
