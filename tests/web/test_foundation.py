"""The dashboard's foundation in a real browser: signing in and out, the start page, error
pages in words, CSRF, roles, and the API documentation served offline."""

from __future__ import annotations

from typing import Any

import httpx

from tests.web.conftest import WebServer, login, shot


def test_sign_in_wrong_password_then_right_then_out(page: Any, web_server: WebServer) -> None:
    base = web_server.url
    page.goto(base + "/accounts")
    assert "/login?next=/accounts" in page.url
    shot(page, "login")

    page.get_by_label("Email").fill(web_server.admin.email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    error = page.get_by_role("alert")
    assert "do not match" in error.inner_text()
    assert "Traceback" not in page.content()

    page.get_by_label("Password").fill(web_server.admin.password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.url.endswith("/accounts")
    cookie = next(c for c in page.context.cookies() if c["name"] == "token")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert not cookie["secure"]  # plain HTTP on 127.0.0.1; Secure when served over HTTPS

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login**")
    assert "signed out" in page.content()
    page.goto(base + "/accounts")
    assert "/login" in page.url


def test_start_page_and_navigation(page: Any, web_server: WebServer) -> None:
    login(page, web_server.url, web_server.viewer.email)
    page.goto(web_server.url + "/")
    assert page.url.rstrip("/") != web_server.url
    nav = page.get_by_role("navigation", name="Main")
    for label in ("Accounts", "Leads", "Subscribers", "Models", "Data", "API docs"):
        assert nav.get_by_role("link", name=label).count() == 1
    assert "viewer" in nav.inner_text()
    # Keyboard: the first Tab reaches the skip link, which moves focus to the content.
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Skip to content"


def test_unknown_page_is_a_404_page_in_words(page: Any, web_server: WebServer) -> None:
    login(page, web_server.url, web_server.viewer.email)
    response = page.goto(web_server.url + "/no-such-page")
    assert response is not None and response.status == 404
    assert page.get_by_role("heading", name="Not found").count() == 1
    assert "Traceback" not in page.content()
    shot(page, "error-404")


def test_a_post_without_its_csrf_token_is_refused(web_server: WebServer) -> None:
    with httpx.Client(base_url=web_server.url, follow_redirects=False) as client:
        page = client.get("/login")
        assert page.status_code == 200
        # The login form's own token works; a missing one does not.
        refused = client.post(
            "/login",
            data={"email": web_server.admin.email, "password": web_server.admin.password},
        )
        assert refused.status_code == 403
        assert "security token" in refused.text
        assert "token" not in client.cookies
        # Signed in with the API's token as the cookie, a form POST still needs the token.
        client.cookies.set("token", web_server.admin.token)
        refused = client.post("/logout", data={})
        assert refused.status_code == 403
        refused = client.post("/logout", data={"csrf_token": "0" * 40})
        assert refused.status_code == 403


def test_login_redirects_only_within_the_site(web_server: WebServer) -> None:
    import re

    with httpx.Client(base_url=web_server.url, follow_redirects=False) as client:
        form = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token is not None
        response = client.post(
            "/login",
            data={
                "email": web_server.viewer.email,
                "password": web_server.viewer.password,
                "csrf_token": token.group(1),
                "next": "//evil.example.com/",
            },
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/"


def test_api_docs_render_offline(page: Any, web_server: WebServer, blocked_requests: list) -> None:
    page.goto(web_server.url + "/docs")
    # Swagger UI draws the operations list from /openapi.json, with every asset local.
    page.wait_for_selector(".opblock-tag-section", timeout=30_000)
    assert page.locator(".opblock").count() > 50
    assert blocked_requests == []
    shot(page, "api-docs")

    page.goto(web_server.url + "/redoc")
    page.wait_for_selector("[role=menuitem], .menu-content", timeout=30_000)
    assert blocked_requests == []


def test_static_assets_are_local_and_licensed(web_server: WebServer) -> None:
    for path in (
        "/static/vendor/chart.js/chart.umd.min.js",
        "/static/vendor/chart.js/LICENSE.md",
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/static/vendor/swagger-ui/LICENSE",
        "/static/vendor/redoc/redoc.standalone.js",
        "/static/vendor/redoc/LICENSE",
        "/static/app.css",
        "/static/app.js",
    ):
        assert httpx.get(web_server.url + path).status_code == 200, path
    docs = httpx.get(web_server.url + "/docs").text
    assert "cdn" not in docs.lower() and "googleapis" not in docs


def test_number_filters() -> None:
    from datetime import date

    from propensity.web.render import date_filter, money, num, pct, signed, signed_pct

    assert pct(0.1234) == "12.3%"
    assert pct(None) == "—" and pct(float("nan")) == "—"
    assert money(12345.6) == "$12,346" and money(-5) == "-$5"
    assert num(1234.5, 1) == "1,234.5"
    assert signed(0.0312) == "+0.031" and signed(-0.0004) == "0.000"
    assert signed_pct(0.031) == "+3.1 pp"
    assert date_filter(date(2026, 1, 2)) == "2026-01-02"
    assert date_filter("2026-01-02T03:04:05Z") == "2026-01-02"
