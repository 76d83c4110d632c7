"""The subscribers page in a real browser: its KPIs are the churn-kpi and RetainStream APIs'."""

from __future__ import annotations

import re
from typing import Any

from tests.web.conftest import WebServer, login, shot


def _number(text: str) -> float:
    return float(re.sub(r"[^0-9.\-]", "", text))


def test_kpis_match_the_apis(page: Any, web_server: WebServer) -> None:
    login(page, web_server.url, web_server.viewer.email)
    page.goto(web_server.url + "/subscribers")
    assert page.get_by_role("heading", name="Subscribers", exact=True).count() == 1

    summary = web_server.get("/api/kpi/churn/summary", web_server.viewer)
    assert _number(page.get_by_test_id("total-customers").inner_text()) == summary["totalCustomers"]
    assert _number(page.get_by_test_id("at-risk-count").inner_text()) == summary["atRiskCount"]
    assert (
        _number(page.get_by_test_id("at-risk-percentage").inner_text())
        == summary["atRiskPercentage"]
    )
    assert _number(page.get_by_test_id("average-risk").inner_text()) == summary["averageRiskScore"]

    cohorts = web_server.get("/api/kpi/churn/cohorts", web_server.viewer)["cohorts"]
    table = page.locator("#cohorts-table tbody tr")
    assert table.count() == len(cohorts)
    for row, cohort in zip(table.all(), cohorts, strict=True):
        cells = row.locator("td").all_inner_texts()
        assert cells[0] == cohort["cohort"]
        assert _number(cells[1]) == cohort["customerCount"]
        assert _number(cells[2]) == cohort["atRiskCount"]

    high_risk = web_server.get("/api/customers/high-risk", web_server.viewer, limit=5)
    first = high_risk["data"]["customers"][0]
    row = page.locator("#high-risk-table tbody tr").first
    assert first["user_id"] in row.inner_text()
    shown = _number(row.locator("td[data-label='Churn probability']").inner_text())
    # The API rounds to 4 decimals, the page to a tenth of a percent.
    assert abs(shown - first["churn_probability"] * 100) <= 0.05 + 1e-9

    assert page.locator("#distribution-chart[data-chart-ready]").count() == 1
    assert page.locator("#trend-chart[data-chart-ready]").count() == 1
    shot(page, "subscribers")


def test_high_risk_list_pages_and_trend_periods(page: Any, web_server: WebServer) -> None:
    login(page, web_server.url, web_server.viewer.email)
    page.goto(web_server.url + "/subscribers")
    page.select_option("#f-period", "1y")
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    assert "period=1y" in page.url
    pager = page.get_by_role("navigation", name="Pages")
    if pager.count():
        first = page.locator("#high-risk-table tbody tr").first.inner_text()
        with page.expect_navigation():
            pager.get_by_role("link", name=re.compile("Next")).click()
        assert "page=2" in page.url and "period=1y" in page.url
        assert page.locator("#high-risk-table tbody tr").first.inner_text() != first
    response = page.goto(web_server.url + "/subscribers?period=forever")
    assert response is not None and response.status == 400
    assert "Unknown period" in page.content()
