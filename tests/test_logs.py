"""Logs are structured and never contain passwords, tokens or keys."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.logs import configure_logging, get_logger
from propensity.settings import Settings
from tests.factories import DEFAULT_PASSWORD, make_tenant_user


def test_secret_fields_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="INFO", json=True)
    get_logger("t").info("login", email="a@b.co", password="hunter2-secret", token="eyJabc")
    err = capsys.readouterr().err
    assert "hunter2-secret" not in err
    assert "eyJabc" not in err
    assert '"email": "a@b.co"' in err


def test_login_and_key_creation_log_no_secrets(
    client: TestClient, database: Database, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(level="DEBUG", json=True)
    admin = make_tenant_user(database, settings)
    login = client.post(
        "/api/auth/login", json={"email": admin.email, "password": DEFAULT_PASSWORD}
    )
    token = login.json()["data"]["token"]
    key = client.post("/api/v1/api-keys", json={"name": "x"}, headers=admin.headers).json()["key"]
    client.post("/api/auth/login", json={"email": admin.email, "password": "wrong-password-9"})
    logged = capsys.readouterr().err
    assert '"event": "request"' in logged
    for secret in (DEFAULT_PASSWORD, "wrong-password-9", token, key, admin.token):
        assert secret not in logged


def test_requests_are_logged_at_debug_and_errors_at_info(
    client: TestClient, database: Database, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(level="INFO", json=True)
    admin = make_tenant_user(database, settings)
    capsys.readouterr()
    assert client.get("/api/v1/api-keys", headers=admin.headers).status_code == 200
    assert '"event": "request"' not in capsys.readouterr().err
    assert client.get("/api/v1/api-keys").status_code == 401
    logged = capsys.readouterr().err
    assert '"event": "request"' in logged and '"status": 401' in logged


@pytest.mark.parametrize("json_mode", [True, False])
def test_an_exception_is_logged_with_its_traceback_and_without_secrets(
    json_mode: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(level="INFO", json=json_mode)
    api_key = "pk_0123456789ab.S3cr3tS3cr3tS3cr3tS3cr3t"
    webhook_secret = "whsec_AbCdEfGhIjKlMnOp"

    def handle_request(password: str) -> None:
        signing = webhook_secret  # a local a traceback with locals would show
        raise ValueError(f"could not use {api_key} with {signing}")

    password = "hunter2" + "-secret"  # built, so the source line shown does not hold it
    try:
        handle_request(password)
    except ValueError:
        get_logger("t").exception("unhandled_error", path="/api/x")
    err = capsys.readouterr().err
    assert "handle_request" in err and "Traceback" in err and "ValueError" in err
    for secret in (api_key, webhook_secret, "hunter2-secret", "S3cr3t"):
        assert secret not in err
