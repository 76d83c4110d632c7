"""Tenant isolation, route by route: tenant A's principal (a JWT, then an API key) sent to
every route of the OpenAPI document with tenant B's ids gets a refusal or "not found", never
B's data."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.db import Database, utcnow
from propensity.models import (
    Cta,
    Customer,
    Job,
    Lead,
    LeadScoringConfig,
    ModelVersion,
    Prediction,
    Role,
    Tenant,
    WebhookSubscription,
)
from propensity.settings import Settings
from propensity.tenancy.service import create_api_key
from propensity.training.service import train_prediction_type
from tests.factories import make_simulated_tenant, make_tenant_user


def _b_rows(database: Database, tenant_id: int) -> tuple[dict[str, str], list[str]]:
    """Ids of tenant B's rows for every path parameter, and strings that only B's data holds."""
    with database.tenant_session(tenant_id) as session:
        account = session.scalars(
            sa.select(Customer).where(Customer.kind == "account").limit(1)
        ).one()
        subscriber = session.scalars(
            sa.select(Customer).where(Customer.kind == "subscriber").limit(1)
        ).one()
        lead = session.scalars(sa.select(Lead).limit(1)).one()
        model = session.scalars(sa.select(ModelVersion).limit(1)).one()
        config = LeadScoringConfig(name="b-config-secret", settings={})
        session.add(config)
        cta = Cta(
            customer_id=account.id,
            type="RISK",
            priority="HIGH",
            title="b-cta-secret",
            reason="b",
            due_date=utcnow() + timedelta(days=3),
        )
        session.add(cta)
        hook = WebhookSubscription(
            url="https://hooks.b.example/secret", events=["model.trained"], secret="whsec_b"
        )
        session.add(hook)
        job = Job(id="b-job-secret", type="train_model", params={})
        session.add(job)
        session.flush()
        prediction = session.scalars(sa.select(Prediction).limit(1)).first()
        ids = {
            "account_id": str(account.id),
            "customer_id": str(subscriber.external_id),
            "lead_id": str(lead.id),
            "model_id": str(model.id),
            "config_id": str(config.id),
            "cta_id": str(cta.id),
            "webhook_id": str(hook.id),
            "job_id": job.id,
            "prediction_id": str(prediction.id if prediction else 1),
            "kind": "customers",
            "name": "all",
        }
        secrets = [
            str(account.external_id),
            str(subscriber.external_id),
            str(lead.external_id),
            "b-config-secret",
            "b-cta-secret",
            "hooks.b.example",
            "b-job-secret",
        ]
    with database.system_session() as session:
        tenant = session.get(Tenant, tenant_id)
        assert tenant is not None
        create_api_key(session, tenant=tenant, name="b-key", role=Role.ADMIN)
        ids["key_id"] = str(
            session.scalar(
                sa.text("SELECT max(id) FROM api_keys WHERE tenant_id = :t"), {"t": tenant_id}
            )
        )
    return ids, secrets


@pytest.mark.slow
def test_tenant_a_never_reads_or_changes_tenant_bs_rows(
    client: TestClient, database: Database, settings: Settings
) -> None:
    b = make_simulated_tenant(
        database, settings, slug="tenant-b", accounts=80, subscribers=300, leads=300
    )
    train_prediction_type(database, tenant_id=b.tenant_id, prediction_type="CONVERSION")
    ids, secrets = _b_rows(database, b.tenant_id)
    a = make_tenant_user(database, settings, slug="tenant-a")
    with database.system_session() as session:
        tenant_a = session.get(Tenant, a.tenant_id)
        assert tenant_a is not None
        _key, a_key = create_api_key(session, tenant=tenant_a, name="a-key", role=Role.ADMIN)
    spec = client.get("/openapi.json").json()
    credentials = [
        {**a.headers, "X-Tenant-ID": "tenant-a"},
        {"X-API-Key": a_key, "X-Tenant-ID": "tenant-a"},
    ]
    checked = 0
    for path, operations in sorted(spec["paths"].items()):
        names = re.findall(r"\{([^}]+)\}", path)
        if not names:
            continue  # nothing of B's is named; the tenant's own lists are A's by construction
        url = path
        for name in names:
            url = url.replace("{" + name + "}", ids[name])
        for method in operations:
            if method in ("post", "put", "patch", "delete") and path.endswith("/train"):
                continue
            for headers in credentials:
                body: Any = {} if method in ("post", "put", "patch") else None
                response = client.request(method.upper(), url, json=body, headers=headers)
                text = response.text
                # An answer may repeat what the request itself named (a 404 naming the id).
                leaked = [s for s in secrets if s in text and s not in url]
                assert not leaked, (method, path, response.status_code, leaked)
                assert response.status_code in (400, 403, 404, 409, 422, 503), (
                    method,
                    path,
                    response.status_code,
                    text[:200],
                )
                checked += 1
    assert checked >= 80
    # And B's rows are all still there, unchanged.
    with database.tenant_session(b.tenant_id) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Cta)) == 1
        assert session.scalar(sa.select(sa.func.count()).select_from(WebhookSubscription)) == 1
