from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.settings import Settings
from tests.factories import DEFAULT_PASSWORD, make_tenant_user


def test_login_returns_a_token_that_authenticates(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = make_tenant_user(database, settings)
    response = client.post(
        "/api/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200
    token = response.json()["data"]["token"]
    keys = client.get("/api/v1/api-keys", headers={"Authorization": f"Bearer {token}"})
    assert keys.status_code == 200
