"""The model pages in a real browser: the registry, a model's page with the ML-platform API's
numbers, and the admin's actions (retrain as a real job with live progress, deploy a
challenger, roll back, promote, roll back to the previous model). A viewer sees none of them
and is refused when posting one anyway."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.web.conftest import WebServer, login, shot

COMPARED = ("auc", "f1Score", "precision", "recall", "testAccuracy", "ece", "brier")


def _models(web_server: WebServer, doc_type: str) -> list[dict[str, Any]]:
    body = web_server.get("/api/ml/models", web_server.viewer, type=doc_type, limit=100)
    return list(body["data"])


def _active(web_server: WebServer, doc_type: str, population: str) -> dict[str, Any]:
    return next(
        m
        for m in _models(web_server, doc_type)
        if m["status"] == "active" and m["population"] == population
    )


def _csrf(page: Any) -> str:
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert token
    return str(token)


def test_registry_and_model_page_match_the_api(page: Any, web_server: WebServer) -> None:
    login(page, web_server.url, web_server.viewer.email)
    page.goto(web_server.url + "/models")
    total = web_server.get("/api/ml/models", web_server.viewer, limit=100)["pagination"]
    assert page.locator("tr[data-model-id]").count() == total["total"]
    assert page.get_by_role("heading", name="Account churn").count() == 1
    assert page.get_by_role("button", name="Train").count() == 0  # a viewer has no actions
    shot(page, "models")

    churn = _active(web_server, "classification", "account")
    page.goto(f"{web_server.url}/models/{churn['id']}")
    api = web_server.get(f"/api/ml/models/{churn['id']}", web_server.viewer)["data"]["metrics"]
    for name in COMPARED:
        cell = page.locator(f"td[data-metric={name}]")
        assert cell.count() == 1, name
        assert float(cell.get_attribute("data-value")) == api[name], name
    assert page.locator("#roc-chart[data-chart-ready]").count() == 1
    assert page.locator("#reliability-chart[data-chart-ready]").count() == 1
    assert page.get_by_test_id("ece").inner_text() == f"{api['ece']:.3f}"
    assert page.locator("#admin-actions").count() == 0
    shot(page, "model-detail")

    health = _active(web_server, "regression", "account")
    page.goto(f"{web_server.url}/models/{health['id']}")
    assert page.locator("td[data-metric=mae]").count() == 1
    assert "apply to models that give a probability" in page.content()
    shot(page, "model-detail-regression")


def test_a_viewer_cannot_act_on_models(page: Any, web_server: WebServer) -> None:
    login(page, web_server.url, web_server.viewer.email)
    model = _active(web_server, "scoring", "lead")
    page.goto(f"{web_server.url}/models/{model['id']}")
    assert page.locator("#admin-actions").count() == 0
    assert page.locator("form[method=post][action^='/models']").count() == 0
    token = _csrf(page)  # a valid token: the refusal is the role's, not the form's
    for action, form in (
        ("retrain", {}),
        ("deploy", {"split": "20", "days": "7"}),
        ("promote", {}),
        ("decide", {}),
        ("rollback", {}),
    ):
        response = page.request.post(
            f"{web_server.url}/models/{model['id']}/{action}",
            form={"csrf_token": token, **form},
            max_redirects=0,
        )
        assert response.status == 403, (action, response.status)
        assert "admin role" in response.text()
    response = page.request.post(
        f"{web_server.url}/models/train",
        form={"csrf_token": token, "target": "CONVERSION:"},
        max_redirects=0,
    )
    assert response.status == 403
    assert web_server.get(f"/api/ml/models/{model['id']}", web_server.viewer)["data"]["status"] == (
        "active"
    )


def test_admin_retrains_deploys_rolls_back_and_promotes(page: Any, web_server: WebServer) -> None:
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, web_server.url, web_server.admin.email)
    original = _active(web_server, "scoring", "lead")
    page.goto(f"{web_server.url}/models/{original['id']}")
    assert page.locator("#admin-actions").count() == 1

    with page.expect_navigation():
        page.get_by_role("button", name="Retrain").click()
    new_id = int(re.search(r"/models/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    assert new_id != int(original["id"])
    assert "Retraining" in page.content()
    if page.locator("[data-job-id]").count():
        # Progress is polled live from the jobs API; the page reloads when the job is done.
        page.wait_for_selector("[data-job-state]", state="attached")
        shot(page, "model-training")
    page.wait_for_selector("#metrics-table", timeout=240_000)
    assert web_server.get(f"/api/ml/models/{new_id}", web_server.admin)["data"]["status"] == (
        "inactive"
    )

    page.fill("#f-split", "30")
    page.fill("#f-days", "7")
    with page.expect_navigation():
        page.get_by_role("button", name="Start the test").click()
    assert "challenges the active model on 30%" in page.content()
    assert page.get_by_test_id("traffic-split").inner_text() == "30%"
    deployment = web_server.get(f"/api/ml/models/{new_id}/deployment", web_server.admin)["data"]
    assert deployment["status"] == "running" and deployment["trafficSplit"] == 0.3
    shot(page, "model-ab-test")

    with page.expect_navigation():
        page.get_by_role("button", name="Roll back the test").click()
    assert "rolled back" in page.content()
    deployment = web_server.get(f"/api/ml/models/{new_id}/deployment", web_server.admin)["data"]
    assert deployment["status"] == "rolled_back"

    with page.expect_navigation():
        page.get_by_role("button", name="Promote").click()
    assert "is now the active model" in page.content()
    assert web_server.get(f"/api/ml/models/{new_id}", web_server.admin)["data"]["status"] == (
        "active"
    )

    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("^Roll back to v")).click()
    assert page.url.split("?")[0].endswith(f"/models/{original['id']}")
    assert "is the active model again" in page.content()
    restored = web_server.get(f"/api/ml/models/{original['id']}", web_server.admin)["data"]
    assert restored["status"] == "active"


def test_a_refused_action_comes_back_in_words(page: Any, web_server: WebServer) -> None:
    login(page, web_server.url, web_server.admin.email)
    model = _active(web_server, "scoring", "lead")
    page.goto(f"{web_server.url}/models/{model['id']}")
    response = page.request.post(
        f"{web_server.url}/models/{model['id']}/deploy",
        form={"csrf_token": _csrf(page), "split": "500", "days": "7"},
    )
    assert response.status == 200
    assert "must be a whole number from 1 to 99" in response.text()
    response = page.goto(f"{web_server.url}/models/99999999")
    assert response is not None and response.status == 404
    assert page.get_by_role("heading", name="Not found").count() == 1


def test_another_tenant_sees_empty_states_and_none_of_these_models(
    page: Any, web_server: WebServer
) -> None:
    churn = _active(web_server, "classification", "account")
    # The page reads the same session cookie the API accepts.
    html = httpx.get(web_server.url + "/leads", cookies={"token": web_server.viewer.token}).text
    lead_id = re.search(r'data-lead-id="(\d+)"', html).group(1)  # type: ignore[union-attr]
    login(page, web_server.url, web_server.other_admin.email)
    for path in (f"/models/{churn['id']}", f"/leads/{lead_id}"):
        response = page.goto(web_server.url + path)
        assert response is not None and response.status == 404, path
        assert page.get_by_role("heading", name="Not found").count() == 1

    # A workspace with one account and no model: each page says what to do.
    page.goto(web_server.url + "/models")
    assert "No model yet" in page.content()
    assert "propensity train CHURN --tenant other-co --kind account" in page.content()
    shot(page, "models-empty")
    page.goto(web_server.url + "/subscribers")
    assert "No subscriber churn model yet" in page.content()
    shot(page, "subscribers-empty")
    page.goto(web_server.url + "/leads")
    assert "No leads yet" in page.content()
    shot(page, "leads-empty")
