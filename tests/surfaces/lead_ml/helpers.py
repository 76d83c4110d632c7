"""A simulated tenant whose leads belong to one lead-scoring configuration, optionally with
trained CONVERSION and TIME_TO_CLOSE models, shared by the lead-ml contract tests."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.models import Lead, LeadScoringConfig
from propensity.settings import Settings
from propensity.training.service import train_prediction_type
from tests.factories import TenantUser, make_simulated_tenant

BASE = "/api/lead-scoring"
LEADS = 600


def make_config(database: Database, tenant_id: int, *, name: str = "Inbound") -> int:
    """A configuration holding every lead of the tenant."""
    with database.tenant_session(tenant_id) as session:
        config = LeadScoringConfig(name=name, description="All simulated leads")
        session.add(config)
        session.flush()
        session.execute(sa.update(Lead).values(config_id=config.id))
        session.commit()
        return config.id


def lead_tenant(
    database: Database,
    settings: Settings,
    *,
    slug: str = "leads",
    leads: int = LEADS,
    train: bool = True,
    seed: int = 11,
) -> tuple[TenantUser, int]:
    user = make_simulated_tenant(database, settings, slug=slug, leads=leads, seed=seed)
    config_id = make_config(database, user.tenant_id)
    if train:
        for prediction_type in ("CONVERSION", "TIME_TO_CLOSE"):
            train_prediction_type(
                database, tenant_id=user.tenant_id, prediction_type=prediction_type
            )
    return user, config_id


def open_lead_ids(database: Database, tenant_id: int) -> list[int]:
    with database.tenant_session(tenant_id) as session:
        return list(
            session.scalars(
                sa.select(Lead.id)
                .where(Lead.converted_at.is_(None), Lead.lost_at.is_(None))
                .order_by(Lead.id)
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
    response = client.request(method, BASE + path, headers=user.headers, json=json, params=params)
    assert response.status_code == expect, response.text
    return response.json()
