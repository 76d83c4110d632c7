"""The account pages in a real browser: the portfolio filtered and paged, the account 360
showing the API's numbers, CTAs changed and kept, scoring now, roles and tenant isolation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.web.conftest import WebServer, login, shot


def _probabilities(page: Any) -> list[float]:
    cells = page.locator("#accounts-table tbody td[data-probability]")
    return [float(v) for v in cells.evaluate_all("cs => cs.map(c => c.dataset.probability)") if v]


def _churn_risk(web_server: WebServer, account_id: str) -> dict[str, Any]:
    """GET /api/crm/accounts/{id}/ml/churn-risk as the viewer: the document's whole body."""
    response = httpx.get(
        f"{web_server.url}/api/crm/accounts/{account_id}/ml/churn-risk",
        headers={**web_server.viewer.headers, "X-Tenant-ID": str(web_server.tenant_id)},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _open_cta(web_server: WebServer) -> dict[str, Any]:
    ctas = web_server.get("/api/v1/ctas", web_server.admin, status="OPEN", limit=100)
    assert ctas, "the demo opens CTAs for the riskiest accounts"
    return dict(ctas[0])


def test_portfolio_sorted_filtered_searched_and_paged(page: Any, web_server: WebServer) -> None:
    login(page, web_server.url, web_server.analyst.email)
    page.goto(web_server.url + "/accounts")
    shot(page, "accounts")
    first_page = _probabilities(page)
    assert len(first_page) == 25
    assert first_page == sorted(first_page, reverse=True)

    # Next page: the ranking goes on where the first page stopped.
    page.get_by_role("link", name="Next →").click()
    page.wait_for_url("**page=2**")
    second_page = _probabilities(page)
    assert second_page and max(second_page) <= min(first_page)
    assert "Page 2 of" in page.locator(".pager").inner_text()

    # Filter by owner: every row is that owner's; the filter survives paging links.
    owner = page.locator("#f-owner option").nth(1).inner_text()
    page.get_by_label("Owner").select_option(owner)
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**owner=**")
    owners = page.locator("#accounts-table td[data-label=Owner]").all_inner_texts()
    assert owners and set(owners) == {owner}

    # Risk category from the tiles, combined with the owner.
    page.goto(web_server.url + "/accounts?risk=low")
    badges = page.locator("#accounts-table td[data-label=Category]").all_inner_texts()
    assert badges and set(badges) == {"Low"}

    # Search by part of a name.
    page.goto(web_server.url + "/accounts")
    name = page.locator("#accounts-table td[data-label=Account] a").first.inner_text()
    page.get_by_label("Search").fill(name[:6])
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**q=**")
    names = page.locator("#accounts-table td[data-label=Account] a").all_inner_texts()
    assert names and all(name[:6].lower() in n.lower() for n in names)
    shot(page, "accounts-search")

    # Nothing matches: an empty state that says what to do.
    page.goto(web_server.url + "/accounts?q=no-such-account-anywhere")
    assert "No account matches these filters" in page.content()


def test_account_page_shows_the_apis_churn_probability(
    page: Any, web_server: WebServer, blocked_requests: list[str]
) -> None:
    login(page, web_server.url, web_server.viewer.email)
    page.goto(web_server.url + "/accounts")
    link = page.locator("#accounts-table td[data-label=Account] a").first
    listed = float(
        page.locator("#accounts-table td[data-probability]").first.get_attribute("data-probability")
    )
    link.click()
    page.wait_for_url("**/accounts/*")
    account_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    shown = float(page.locator("#churn-probability").get_attribute("data-probability"))

    api = _churn_risk(web_server, account_id)["data"]
    assert shown == api["churnProbability"] == listed
    assert (
        page.locator("#h-risk")
        .locator("..")
        .get_by_text(api["riskCategory"].capitalize(), exact=True)
        .count()
        >= 1
    )

    # The waterfall adds up to the probability it explains.
    total = float(page.locator("[data-total]").get_attribute("data-total"))
    assert total == pytest.approx(shown, abs=1e-9)
    assert page.locator("canvas[data-chart-ready]").count() >= 3
    assert blocked_requests == []
    shot(page, "account")


def test_cta_status_change_persists_after_reload(page: Any, web_server: WebServer) -> None:
    cta = _open_cta(web_server)
    login(page, web_server.url, web_server.analyst.email)
    page.goto(f"{web_server.url}/accounts/{cta['accountId']}")
    row = page.locator(f"#cta-table tr[data-cta-id='{cta['id']}']")
    assert row.locator(".cta-status").inner_text() == "Open"
    row.get_by_role("button", name="Start").click()
    page.wait_for_url("**notice=**")
    assert "is now in progress" in page.get_by_role("status").first.inner_text()

    page.goto(f"{web_server.url}/accounts/{cta['accountId']}")
    row = page.locator(f"#cta-table tr[data-cta-id='{cta['id']}']")
    assert row.locator(".cta-status").inner_text() == "In progress"
    assert row.get_by_role("button", name="Start").count() == 0
    assert row.get_by_role("button", name="Complete").count() == 1
    stored = web_server.get(f"/api/v1/ctas/{cta['id']}", web_server.viewer)
    assert stored["status"] == "IN_PROGRESS"

    # A new CTA by hand.
    page.get_by_text("New CTA").click()
    page.get_by_label("Title").fill("Call the sponsor about the renewal")
    page.get_by_label("Priority").select_option("HIGH")
    page.get_by_role("button", name="Create CTA").click()
    page.wait_for_url("**notice=**")
    assert page.locator("#cta-table").get_by_text("Call the sponsor about the renewal").count() == 1


def test_score_now_makes_a_fresh_prediction_the_api_then_serves(
    page: Any, web_server: WebServer
) -> None:
    # A viewer reads; scoring afresh spends the tenant's quota, an analyst's action.
    login(page, web_server.url, web_server.viewer.email)
    page.goto(web_server.url + "/accounts")
    page.locator("#accounts-table td[data-label=Account] a").nth(3).click()
    page.wait_for_url("**/accounts/*")
    assert page.get_by_role("button", name="Score now").count() == 0
    page.context.clear_cookies()
    login(page, web_server.url, web_server.analyst.email)
    page.goto(web_server.url + "/accounts")
    page.locator("#accounts-table td[data-label=Account] a").nth(3).click()
    page.wait_for_url("**/accounts/*")
    account_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    before = page.locator("#churn-predicted-at").inner_text()
    page.get_by_role("button", name="Score now").click()
    page.wait_for_url("**notice=**")
    assert "Scored now: churn risk" in page.get_by_role("status").first.inner_text()
    after = page.locator("#churn-predicted-at").inner_text()
    assert after >= before
    api = _churn_risk(web_server, account_id)
    assert api["cached"] is True
    shown = float(page.locator("#churn-probability").get_attribute("data-probability"))
    assert api["data"]["churnProbability"] == shown


def test_a_viewer_sees_no_cta_actions_and_is_refused_anyway(
    page: Any, web_server: WebServer
) -> None:
    cta = _open_cta(web_server)
    login(page, web_server.url, web_server.viewer.email)
    page.goto(f"{web_server.url}/accounts/{cta['accountId']}")
    assert page.locator("#cta-table").count() == 1
    assert page.locator("#cta-table button").count() == 0
    assert page.get_by_text("New CTA").count() == 0
    assert page.get_by_role("columnheader", name="Change status").count() == 0
    shot(page, "account-viewer")

    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    response = page.request.post(
        f"{web_server.url}/accounts/{cta['accountId']}/ctas/{cta['id']}",
        form={"csrf_token": token, "status": "COMPLETED"},
        max_redirects=0,
    )
    assert response.status == 403
    assert "analyst role" in response.text()
    stored = web_server.get(f"/api/v1/ctas/{cta['id']}", web_server.viewer)
    assert stored["status"] == cta["status"] == "OPEN"


def test_another_tenants_account_is_a_404_page(page: Any, web_server: WebServer) -> None:
    login(page, web_server.url, web_server.admin.email)
    response = page.goto(f"{web_server.url}/accounts/{web_server.other_account_id}")
    assert response is not None and response.status == 404
    assert page.get_by_role("heading", name="Not found").count() == 1
    assert "Other Co" not in page.content()
    response = page.goto(f"{web_server.url}/accounts/not-a-number")
    assert response is not None and response.status == 404
    page.goto(f"{web_server.url}/accounts?q=Other+Co")
    assert page.locator("#accounts-table").count() == 0
