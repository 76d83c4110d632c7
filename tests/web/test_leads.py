"""The leads pages in a real browser: the ranked work list with its filters and pages, and a
lead's page, whose numbers are the lead-ml API's."""

from __future__ import annotations

import re
from typing import Any

from tests.web.conftest import WebServer, login, shot


def _rows(page: Any) -> Any:
    return page.locator("#leads-table tbody tr")


def test_ranked_list_filters_and_pages(page: Any, web_server: WebServer) -> None:
    login(page, web_server.url, web_server.viewer.email)
    page.goto(web_server.url + "/leads")
    assert page.get_by_role("heading", name="Leads").count() == 1
    rows = _rows(page)
    assert rows.count() > 0
    ranks = [
        int(t) for t in page.locator("#leads-table tbody td[data-label=Rank]").all_inner_texts()
    ]
    assert ranks == sorted(ranks) and ranks[0] == 1
    shot(page, "leads")

    # The ranking is the API's: the same leads in the same order.
    config_id = page.locator("#f-config").input_value()
    api = web_server.get(
        f"/api/lead-scoring/{config_id}/ml/ranked-leads",
        web_server.viewer,
        limit=10,
        useLLM="false",
    )
    shown = [int(r.get_attribute("data-lead-id")) for r in rows.all()[:10]]
    assert shown == [r["leadId"] for r in api["rankings"]][: len(shown)]

    page.select_option("#f-tier", "top")
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()
    assert "tier=top" in page.url
    tiers = page.locator("#leads-table tbody td[data-label=Tier]").all_inner_texts()
    assert tiers and {t.strip() for t in tiers} == {"Top"}

    page.goto(web_server.url + f"/leads?config={config_id}")
    pager = page.get_by_role("navigation", name="Pages")
    if pager.count():
        first_page = shown
        with page.expect_navigation():
            pager.get_by_role("link", name=re.compile("Next")).click()
        assert "page=2" in page.url
        second = [int(r.get_attribute("data-lead-id")) for r in _rows(page).all()]
        assert second and not set(second) & set(first_page)


def test_lead_page_shows_the_api_numbers(page: Any, web_server: WebServer) -> None:
    login(page, web_server.url, web_server.viewer.email)
    page.goto(web_server.url + "/leads")
    first = _rows(page).first
    lead_id = int(first.get_attribute("data-lead-id"))
    with page.expect_navigation():
        first.locator("td[data-label=Lead] a").click()
    assert page.url.endswith(f"/leads/{lead_id}")

    api = web_server.get(f"/api/lead-scoring/leads/{lead_id}/ml/prediction", web_server.viewer)
    shown = page.get_by_test_id("conversion-probability")
    assert float(shown.get_attribute("data-value")) == api["prediction"]["probability"]
    assert shown.inner_text() == f"{api['prediction']['probability'] * 100:.1f}%"

    # The breakdown adds up to the score, which is round(100 x probability).
    score = int(page.get_by_test_id("lead-score").inner_text())
    assert score == round(100 * api["prediction"]["probability"])
    assert int(page.get_by_test_id("breakdown-total").inner_text()) == score
    assert page.locator("#breakdown-chart[data-chart-ready]").count() == 1
    assert "Time to close" in page.content()
    shot(page, "lead-detail")


def test_unknown_lead_is_a_404_page(page: Any, web_server: WebServer) -> None:
    login(page, web_server.url, web_server.viewer.email)
    for path in ("/leads/99999999", "/leads/not-a-number", "/leads?config=99999999"):
        response = page.goto(web_server.url + path)
        assert response is not None and response.status == 404, path
        assert page.get_by_role("heading", name="Not found").count() == 1
        assert "Traceback" not in page.content()
