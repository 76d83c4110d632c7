"""The principal of a credential is remembered for a few seconds per process, never the
credential itself, and a revocation in this process is seen at once."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.models import ApiKey, Role
from propensity.settings import Settings
from propensity.tenancy.principals import PrincipalCache, credentials_changed
from propensity.tenancy.service import Principal
from tests.factories import make_tenant_user

PRINCIPAL = Principal(tenant_id=1, tenant_slug="acme", role=Role.VIEWER, user_id=7)


def test_entries_expire_and_a_change_of_credentials_forgets_them() -> None:
    cache = PrincipalCache(ttl_seconds=0.2)
    cache.put("secret-token", PRINCIPAL)
    assert cache.get("secret-token") == PRINCIPAL
    assert cache.get("other-token") is None
    assert all(b"secret-token" not in key for key in cache._entries)
    time.sleep(0.25)
    assert cache.get("secret-token") is None
    cache.put("secret-token", PRINCIPAL)
    credentials_changed()
    assert cache.get("secret-token") is None


def test_the_cache_is_bounded() -> None:
    cache = PrincipalCache(max_entries=3)
    for n in range(5):
        cache.put(f"token-{n}", PRINCIPAL)
    assert cache.get("token-0") is None and cache.get("token-4") == PRINCIPAL


def test_a_revoked_key_is_refused_at_once_and_reads_do_not_write_last_used(
    client: TestClient, database: Database, settings: Settings
) -> None:
    admin = make_tenant_user(database, settings)
    created = client.post("/api/v1/api-keys", json={"name": "k"}, headers=admin.headers).json()
    as_key = {"X-API-Key": created["key"]}
    assert client.get("/api/v1/api-keys", headers=as_key).status_code in (200, 403)
    with database.system_session() as session:
        first = session.scalar(sa.select(ApiKey.last_used_at).where(ApiKey.id == created["id"]))
    assert first is not None
    for _ in range(3):
        client.get("/api/v1/api-keys", headers=as_key)
    with database.system_session() as session:
        again = session.scalar(sa.select(ApiKey.last_used_at).where(ApiKey.id == created["id"]))
    assert again == first
    assert client.delete(
        f"/api/v1/api-keys/{created['id']}", headers=admin.headers
    ).status_code in (
        200,
        204,
    )
    refused = client.get("/api/v1/api-keys", headers=as_key)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "INVALID_TOKEN"


def test_a_key_stops_at_its_expiry_and_with_its_creator(
    client: TestClient, database: Database, settings: Settings
) -> None:
    from propensity.models import User

    admin = make_tenant_user(database, settings)
    created = client.post(
        "/api/v1/api-keys", json={"name": "k", "expiresInDays": 30}, headers=admin.headers
    ).json()
    assert created["expiresAt"] is not None
    as_key = {"X-API-Key": created["key"]}
    assert client.get("/api/v1/jobs", headers=as_key).status_code != 403
    with database.system_session() as session:
        session.execute(
            sa.update(ApiKey)
            .where(ApiKey.id == created["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    credentials_changed()  # what the 5 s cache would forget by itself
    refused = client.get("/api/v1/jobs", headers=as_key)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "INVALID_TOKEN"

    second = client.post("/api/v1/api-keys", json={"name": "k2"}, headers=admin.headers).json()
    as_second = {"X-API-Key": second["key"]}
    assert client.get("/api/v1/jobs", headers=as_second).status_code != 403
    with database.system_session() as session:
        session.execute(sa.update(User).where(User.id == admin.user_id).values(is_active=False))
    credentials_changed()
    assert client.get("/api/v1/jobs", headers=as_second).status_code == 403
    bad = client.post(
        "/api/v1/api-keys", json={"name": "k3", "expiresInDays": 0}, headers=admin.headers
    )
    assert bad.status_code in (400, 403, 422)
