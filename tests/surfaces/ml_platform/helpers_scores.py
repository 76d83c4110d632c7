"""A simulated tenant with leads (and, when asked, closed sales), trained CONVERSION and
optionally TIME_TO_CLOSE models, and a caller for `/api/ml`: shared by the lead-score,
batch, conversion, market and config contract tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.models import Lead, Role
from propensity.settings import Settings
from propensity.training.service import train_prediction_type
from tests.factories import TenantUser, make_simulated_tenant, make_tenant_user

BASE = "/api/ml"
LEADS = 500


def trained_leads(
    database: Database,
    settings: Settings,
    *,
    slug: str = "mlp",
    time_to_close: bool = False,
    leads: int = LEADS,
) -> TenantUser:
    user = make_simulated_tenant(database, settings, slug=slug, leads=leads)
    types = ("CONVERSION", "TIME_TO_CLOSE") if time_to_close else ("CONVERSION",)
    for prediction_type in types:
        train_prediction_type(database, tenant_id=user.tenant_id, prediction_type=prediction_type)
    return user


def import_deals(database: Database, tenant_id: int, *, deals: int, seed: int = 5) -> None:
    """The simulator's closed sales (docs/simulator.md, "Deals"), imported as PropertySale."""
    from propensity.crm.service import import_frame
    from propensity.simulator import SimulationConfig, simulate

    data = simulate(
        SimulationConfig(
            seed=seed,
            end=dt.date(2026, 6, 1),
            n_accounts=0,
            n_subscribers=0,
            n_leads=0,
            n_deals=deals,
        )
    )
    with database.tenant_session(tenant_id) as session:
        import_frame(session, kind="deals", frame=data.deals)


def colleague(database: Database, settings: Settings, user: TenantUser, role: Role) -> TenantUser:
    return make_tenant_user(
        database, settings, slug=user.tenant_slug, role=role, existing_tenant=True
    )


def lead_ids(database: Database, tenant_id: int, *, open_only: bool = True) -> list[int]:
    with database.tenant_session(tenant_id) as session:
        query = sa.select(Lead.id).order_by(Lead.id)
        if open_only:
            query = query.where(Lead.converted_at.is_(None), Lead.lost_at.is_(None))
        return [int(i) for i in session.scalars(query)]


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
    response = client.request(method, BASE + path, headers=user.headers, json=json, params=params)
    assert response.status_code == expect, response.text
    return response.json()


def error_of(body: Any) -> dict[str, Any]:
    assert body["success"] is False, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    return dict(error)
