"""Authentication by bearer token, cookie or API key; roles; X-Tenant-ID."""

from __future__ import annotations

from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.models import Role
from propensity.settings import Settings
from tests.factories import make_tenant_user


def test_token_is_accepted_from_header_and_both_cookies(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = make_tenant_user(database, settings)
    assert client.get("/api/v1/api-keys", headers=user.headers).status_code == 200
    for cookie in ("token", "auth_token"):
        client.cookies.clear()
        client.cookies.set(cookie, user.token)
        assert client.get("/api/v1/api-keys").status_code == 200, cookie
    client.cookies.clear()


def test_roles_gate_admin_actions(
    client: TestClient, database: Database, settings: Settings
) -> None:
    viewer = make_tenant_user(database, settings, role=Role.VIEWER)
    analyst = make_tenant_user(
        database, settings, role=Role.ANALYST, existing_tenant=True, slug=viewer.tenant_slug
    )
    for user in (viewer, analyst):
        response = client.post("/api/v1/api-keys", json={"name": "ci"}, headers=user.headers)
        assert response.status_code == 403
        assert "admin" in response.json()["error"]["message"]


def test_api_key_is_shown_once_stored_hashed_and_authenticates(
    client: TestClient, database: Database, settings: Settings
) -> None:
    import sqlalchemy as sa

    from propensity.models import ApiKey

    admin = make_tenant_user(database, settings)
    created = client.post(
        "/api/v1/api-keys", json={"name": "etl", "role": "viewer"}, headers=admin.headers
    )
    assert created.status_code == 201
    secret = created.json()["key"]
    with database.tenant_session(admin.tenant_id) as session:
        stored = session.scalars(sa.select(ApiKey)).one()
        assert secret not in (stored.key_hash, stored.prefix)
    listed = client.get("/api/v1/api-keys", headers=admin.headers).json()
    assert "key" not in listed[0]
    # A viewer key may read but not administer.
    as_key = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/api-keys", headers=as_key).status_code == 403
    assert client.get("/api/health", headers={"X-API-Key": secret}).status_code == 200
    # Revoked keys stop working.
    key_id = created.json()["id"]
    assert client.delete(f"/api/v1/api-keys/{key_id}", headers=admin.headers).status_code == 204
    admin_key = client.post(
        "/api/v1/api-keys", json={"name": "admin-etl", "role": "admin"}, headers=admin.headers
    ).json()["key"]
    ok = client.get("/api/v1/api-keys", headers={"X-API-Key": admin_key})
    assert ok.status_code == 200
    assert any(k["revokedAt"] for k in ok.json())
    assert client.get("/api/v1/api-keys", headers=as_key).status_code == 403


def test_x_tenant_id_must_name_the_callers_tenant(
    client: TestClient, database: Database, settings: Settings
) -> None:
    a = make_tenant_user(database, settings, slug="tenant-a")
    b = make_tenant_user(database, settings, slug="tenant-b")
    for value in (str(a.tenant_id), "tenant-a"):
        response = client.get("/api/v1/api-keys", headers={**a.headers, "X-Tenant-ID": value})
        assert response.status_code == 200
    for value in (str(b.tenant_id), "tenant-b", "999"):
        response = client.get("/api/v1/api-keys", headers={**a.headers, "X-Tenant-ID": value})
        assert response.status_code == 403


def test_api_keys_of_one_tenant_are_invisible_to_another(
    client: TestClient, database: Database, settings: Settings
) -> None:
    a = make_tenant_user(database, settings, slug="tenant-a")
    b = make_tenant_user(database, settings, slug="tenant-b")
    key_id = client.post("/api/v1/api-keys", json={"name": "a"}, headers=a.headers).json()["id"]
    assert client.get("/api/v1/api-keys", headers=b.headers).json() == []
    assert client.delete(f"/api/v1/api-keys/{key_id}", headers=b.headers).status_code == 404
    assert client.get("/api/v1/api-keys", headers=a.headers).json()[0]["revokedAt"] is None


def test_deactivated_user_tokens_stop_working(
    client: TestClient, database: Database, settings: Settings
) -> None:
    import sqlalchemy as sa

    from propensity.models import User

    user = make_tenant_user(database, settings)
    with database.system_session() as session:
        session.execute(sa.update(User).where(User.id == user.user_id).values(is_active=False))
    assert client.get("/api/v1/api-keys", headers=user.headers).status_code == 403
