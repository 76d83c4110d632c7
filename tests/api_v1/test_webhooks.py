"""/api/v1/webhooks: subscriptions (secret shown once), validation, roles, tenant isolation,
the delivery log and the test ping through a real consumer and receiver."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from propensity.app import create_app
from propensity.db import Database
from propensity.jobs import start_embedded_consumer
from propensity.models import Role, WebhookSubscription
from propensity.settings import Settings
from tests.factories import TenantUser, make_tenant_user
from tests.jobs.support import own_queue, wait_for
from tests.webhooks.receiver import running_receiver
from tests.webhooks.support import fast_settings

FIELDS = {
    "id",
    "url",
    "events",
    "description",
    "active",
    "disabledReason",
    "disabledAt",
    "consecutiveFailures",
    "createdAt",
    "updatedAt",
}
URL = "http://127.0.0.1:9/hook"


@pytest.fixture
def loopback_settings(settings: Settings) -> Settings:
    return fast_settings(settings)


@pytest.fixture
def loopback_client(loopback_settings: Settings, database: Database) -> Iterator[TestClient]:
    """The tests' receiver is on 127.0.0.1, which only this setting allows."""
    with TestClient(create_app(loopback_settings, database)) as test_client:
        yield test_client


@pytest.fixture
def admin(database: Database, settings: Settings) -> TenantUser:
    return make_tenant_user(database, settings, role=Role.ADMIN)


def create(client: TestClient, user: TenantUser, **body: Any) -> Any:
    payload = {"url": URL, "events": ["churn.alert"], **body}
    response = client.post("/api/v1/webhooks", json=payload, headers=user.headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_the_secret_is_shown_once_and_never_again(
    loopback_client: TestClient, admin: TenantUser
) -> None:
    created = create(loopback_client, admin, events=["churn.alert", "MODEL.TRAINED", "churn.alert"])
    assert set(created) == FIELDS | {"secret"}
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert created["events"] == ["churn.alert", "model.trained"]
    assert (created["active"], created["consecutiveFailures"]) == (True, 0)
    listed = loopback_client.get("/api/v1/webhooks", headers=admin.headers).json()
    one = loopback_client.get(f"/api/v1/webhooks/{created['id']}", headers=admin.headers).json()
    assert [set(listed[0]), set(one)] == [FIELDS, FIELDS]
    assert created["secret"] not in str(listed) + str(one)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"url": "ftp://example.com/x"}, "url", "url must start with http:// or https://"),
        ({"url": "https://user:pw@example.com/x"}, "url", "must not contain a user name"),
        ({"url": "http://127.0.0.1:9/hook"}, "url", "resolves to 127.0.0.1, a private"),
        ({"url": "http://10.1.2.3/hook"}, "url", "resolves to 10.1.2.3"),
        ({"url": "http://169.254.169.254/latest"}, "url", "resolves to 169.254.169.254"),
        ({"url": "http://[::1]:8080/"}, "url", "resolves to ::1"),
        ({"events": ["prediction.exploded"]}, "events", "unknown event 'prediction.exploded'"),
    ],
)
def test_bad_subscriptions_are_400_naming_the_field(
    client: TestClient, admin: TenantUser, body: dict[str, Any], field: str, message: str
) -> None:
    payload = {"url": "https://93.184.216.34/hook", "events": ["churn.alert"], **body}
    response = client.post("/api/v1/webhooks", json=payload, headers=admin.headers)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert message in error["message"]
    assert error["details"]["field"] == field
    assert client.get("/api/v1/webhooks", headers=admin.headers).json() == []


def test_a_public_address_is_accepted_by_default(client: TestClient, admin: TenantUser) -> None:
    created = create(client, admin, url="https://93.184.216.34/hook")
    assert created["url"] == "https://93.184.216.34/hook"


def test_only_admins_change_subscriptions_analysts_read_them(
    loopback_client: TestClient, admin: TenantUser, database: Database, settings: Settings
) -> None:
    analyst = make_tenant_user(database, settings, role=Role.ANALYST, existing_tenant=True)
    created = create(loopback_client, admin)
    path = f"/api/v1/webhooks/{created['id']}"
    body = {"url": URL, "events": ["churn.alert"]}
    headers = analyst.headers
    assert loopback_client.post("/api/v1/webhooks", json=body, headers=headers).status_code == 403
    assert loopback_client.patch(path, json={"active": False}, headers=headers).status_code == 403
    assert loopback_client.delete(path, headers=headers).status_code == 403
    assert loopback_client.get(path, headers=headers).status_code == 200
    kinds = loopback_client.get("/api/v1/webhooks/events", headers=headers).json()
    assert "churn.alert" in kinds and "prediction.validated" in kinds and len(kinds) == 7
    assert loopback_client.get(f"{path}/deliveries", headers=headers).json() == []


def test_update_and_re_enabling_resets_the_failures(
    loopback_client: TestClient, admin: TenantUser, database: Database
) -> None:
    created = create(loopback_client, admin)
    path = f"/api/v1/webhooks/{created['id']}"
    with database.tenant_session(admin.tenant_id) as session:
        sub = session.get(WebhookSubscription, created["id"])
        assert sub is not None
        sub.active, sub.consecutive_failures, sub.disabled_reason = False, 20, "Disabled after 20"
    shown = loopback_client.get(path, headers=admin.headers).json()
    assert (shown["active"], shown["disabledReason"]) == (False, "Disabled after 20")
    changed = loopback_client.patch(
        path, json={"active": True, "events": ["model.trained"]}, headers=admin.headers
    ).json()
    assert (changed["active"], changed["consecutiveFailures"], changed["disabledReason"]) == (
        True,
        0,
        None,
    )
    assert changed["events"] == ["model.trained"]
    paused = loopback_client.patch(path, json={"active": False}, headers=admin.headers).json()
    assert (paused["active"], paused["disabledReason"]) == (False, "Disabled by a user")
    empty = loopback_client.patch(path, json={}, headers=admin.headers)
    assert empty.status_code == 400
    bad = loopback_client.patch(path, json={"url": "gopher://x"}, headers=admin.headers)
    assert (bad.status_code, bad.json()["error"]["details"]) == (400, {"field": "url"})
    assert loopback_client.delete(path, headers=admin.headers).status_code == 204
    assert loopback_client.get(path, headers=admin.headers).status_code == 404


def test_another_tenant_cannot_see_or_touch_a_subscription(
    loopback_client: TestClient, admin: TenantUser, database: Database, settings: Settings
) -> None:
    other = make_tenant_user(database, settings, slug="globex", role=Role.ADMIN)
    created = create(loopback_client, admin)
    path = f"/api/v1/webhooks/{created['id']}"
    headers = other.headers
    assert loopback_client.get("/api/v1/webhooks", headers=headers).json() == []
    assert loopback_client.get(path, headers=headers).status_code == 404
    assert loopback_client.patch(path, json={"active": False}, headers=headers).status_code == 404
    assert loopback_client.delete(path, headers=headers).status_code == 404
    assert loopback_client.get(f"{path}/deliveries", headers=headers).status_code == 404
    assert loopback_client.post(f"{path}/test", headers=headers).status_code == 404
    assert loopback_client.get(path, headers=admin.headers).json()["active"] is True


def test_a_test_ping_is_delivered_signed_and_logged(
    loopback_client: TestClient,
    loopback_settings: Settings,
    admin: TenantUser,
    database: Database,
) -> None:
    with (
        running_receiver(plan=["500"]) as receiver,
        own_queue(loopback_settings, database) as queue,
    ):
        created = create(loopback_client, admin, url=receiver.url("/ping"))
        receiver.secrets["/ping"] = created["secret"]
        path = f"/api/v1/webhooks/{created['id']}"
        queued = loopback_client.post(f"{path}/test", headers=admin.headers)
        assert queued.status_code == 202, queued.text
        assert (queued.json()["status"], queued.json()["eventType"]) == ("pending", "webhook.test")

        def delivered() -> Any:
            log = loopback_client.get(f"{path}/deliveries", headers=admin.headers).json()
            return log if log and log[0]["status"] == "delivered" else None

        with start_embedded_consumer(
            loopback_settings, database=database, queue=queue, periodic=False
        ):
            (entry,) = wait_for(delivered, timeout=30, what="the ping to be delivered")
    assert receiver.accepted == [entry["eventId"]]
    assert all(r.signature_ok and r.event_type == "webhook.test" for r in receiver.requests())
    assert (entry["attemptCount"], entry["lastStatusCode"], entry["lastError"]) == (2, 200, None)
    assert [(a["number"], a["statusCode"], a["ok"]) for a in entry["attempts"]] == [
        (1, 500, False),
        (2, 200, True),
    ]
    assert entry["attempts"][0]["error"] == "HTTP 500"
    only_failed = loopback_client.get(f"{path}/deliveries?status=failed", headers=admin.headers)
    assert only_failed.json() == []
    bad = loopback_client.get(f"{path}/deliveries?status=lost", headers=admin.headers)
    assert bad.status_code == 400
    # A ping says nothing about regular deliveries: the failure count is untouched.
    assert loopback_client.get(path, headers=admin.headers).json()["consecutiveFailures"] == 0
