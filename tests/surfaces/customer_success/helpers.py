"""A simulated B2B portfolio with trained CHURN and HEALTH_TREND account models, shared by
the customer-success contract tests."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.models import Customer
from propensity.settings import Settings
from propensity.training.service import train_prediction_type
from tests.factories import TenantUser, make_simulated_tenant

BASE = "/api/crm/accounts"
ACCOUNTS = 250


def trained_accounts(database: Database, settings: Settings, *, slug: str = "cs") -> TenantUser:
    user = make_simulated_tenant(database, settings, slug=slug, accounts=ACCOUNTS)
    for prediction_type in ("CHURN", "HEALTH_TREND"):
        train_prediction_type(
            database, tenant_id=user.tenant_id, prediction_type=prediction_type, kind="account"
        )
    return user


def account_ids(database: Database, tenant_id: int) -> list[int]:
    with database.tenant_session(tenant_id) as session:
        return list(
            session.scalars(
                sa.select(Customer.id).where(Customer.kind == "account").order_by(Customer.id)
            ).all()
        )


def call(
    client: TestClient,
    user: TenantUser,
    method: str,
    path: str,
    *,
    expect: int = 200,
    json: Any = None,
    params: dict[str, Any] | None = None,
) -> Any:
    response = client.request(
        method, BASE + path, headers=user.tenant_headers, json=json, params=params
    )
    assert response.status_code == expect, response.text
    return response.json()
