"""Browser tests of the dashboard: a real server on 127.0.0.1 (uvicorn in a thread, with an
embedded job consumer) over a migrated SQLite database holding a small demo tenant (the demo's
own simulator, training, scoring, CTAs and drift checks at a tenth of its size), driven by
Debian's Chromium through Playwright.

Fixtures: `web_server` (session), `browser` (session), `page` (a new context per test, with
every request outside 127.0.0.1 aborted and recorded in `blocked_requests`). Helpers:
`login(page, base_url, email, password)` and `shot(page, name)` (desktop and phone screenshots
under $PROPENSITY_SCREENSHOT_DIR, default var/screenshots/<UTC timestamp>/)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
import pytest
import sqlalchemy as sa
from rich.console import Console

from propensity.app import create_app
from propensity.db import Database
from propensity.models import Customer, Role
from propensity.settings import Settings
from tests.conftest import PG_URL, TEST_SECRET
from tests.servers import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "web-test-password-1"
DEMO_SCALE = 0.1  # 200 accounts, 2,000 subscribers, 1,000 leads: about 15 s to build
REPO_ROOT = Path(__file__).resolve().parents[2]


def _browser_missing_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (scripts/ensure-chromium.sh installs Debian's chromium)"
    return None


@dataclass(frozen=True)
class WebUser:
    email: str
    password: str
    role: str
    user_id: int
    tenant_id: int
    token: str  # an API bearer token of the same user, for comparing pages with the API

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class WebServer:
    url: str
    settings: Settings
    database: Database
    tenant_id: int
    admin: WebUser
    analyst: WebUser
    viewer: WebUser
    other_admin: WebUser
    other_account_id: int

    def get(self, path: str, user: WebUser, **params: Any) -> Any:
        """GET an API path as `user`; the parsed JSON (asserts a 200)."""
        import httpx

        response = httpx.get(self.url + path, headers=user.headers, params=params, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()


def _user(
    database: Database, settings: Settings, *, tenant_id: int, email: str, role: Role, create: bool
) -> WebUser:
    from propensity.tenancy.service import create_user, get_tenant, token_for

    with database.system_session() as session:
        if create:
            user = create_user(
                session,
                tenant=get_tenant(session, slug_or_id=tenant_id),
                email=email,
                password=PASSWORD,
                role=role,
            )
        else:
            from propensity.models import User

            user = session.scalars(sa.select(User).where(User.email == email)).one()
        token = token_for(user=user, key=settings.signing_key(), lifetime=timedelta(hours=4))
        return WebUser(email, PASSWORD, role.value, user.id, tenant_id, token)


def _other_tenant(database: Database, settings: Settings) -> tuple[WebUser, int]:
    """A second tenant with one account: its id must be a 404 page for the first tenant."""
    from propensity.crm.service import import_frame
    from propensity.tenancy.service import create_tenant

    with database.system_session() as session:
        tenant_id = create_tenant(session, slug="other-co").id
    admin = _user(
        database,
        settings,
        tenant_id=tenant_id,
        email="admin@other.example.com",
        role=Role.ADMIN,
        create=True,
    )
    frame = pd.DataFrame(
        [{"customer_id": "OTHER-1", "kind": "account", "name": "Other Co Account", "arr": 5e4}]
    )
    with database.tenant_session(tenant_id) as session:
        import_frame(session, kind="customers", frame=frame)
    with database.tenant_session(tenant_id) as session:
        account_id = session.scalars(sa.select(Customer.id)).one()
    return admin, account_id


def _database_url(home: Path) -> str:
    """SQLite in `home`; on the PostgreSQL pass (PROPENSITY_TEST_DATABASE_URL set) a fresh
    database of its own, so the pages are tested on both backends."""
    if not PG_URL:
        return f"sqlite:///{home / 'propensity.db'}"
    name = f"propensity_web_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


class _ThreadedServer:
    def __init__(self, app: Any, port: int) -> None:
        import uvicorn

        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="web-test-server", daemon=True)

    def __enter__(self) -> _ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    reason = _browser_missing_reason()
    if reason is not None and not os.environ.get("CI"):
        pytest.skip(reason)
    # Under CI the browser tests must run (the test command installs Chromium): a missing
    # browser fails them below rather than skipping.
    from propensity.demo import default_config, run_demo
    from propensity.jobs.consumer import start_embedded_consumer

    home = tmp_path_factory.mktemp("web")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        home=home / "home",
        database_url=_database_url(home),
        secret_key=TEST_SECRET,  # type: ignore[arg-type]
        demo_admin_email="admin@web.example.com",
        demo_admin_password=PASSWORD,  # type: ignore[arg-type]
        # The tests score accounts now many times over; the document's daily quota is not
        # what they test.
        cs_predict_daily_limit="10000/day",
        # Webhook receivers in tests listen on 127.0.0.1 only.
        webhook_allow_private_addresses=True,
    )
    database = Database(settings.resolved_database_url)
    demo = run_demo(
        settings=settings,
        database=database,
        config=default_config(seed=7, scale=DEMO_SCALE, end=None),
        console=Console(quiet=True),
    )
    admin = _user(
        database,
        settings,
        tenant_id=demo.tenant_id,
        email=demo.admin_email,
        role=Role.ADMIN,
        create=False,
    )
    analyst, viewer = (
        _user(
            database,
            settings,
            tenant_id=demo.tenant_id,
            email=f"{role.value}@web.example.com",
            role=role,
            create=True,
        )
        for role in (Role.ANALYST, Role.VIEWER)
    )
    other_admin, other_account = _other_tenant(database, settings)
    consumer = start_embedded_consumer(settings, database=database, periodic=False)
    port = free_port()
    try:
        with _ThreadedServer(create_app(settings, database), port):
            yield WebServer(
                url=f"http://127.0.0.1:{port}",
                settings=settings,
                database=database,
                tenant_id=demo.tenant_id,
                admin=admin,
                analyst=analyst,
                viewer=viewer,
                other_admin=other_admin,
                other_account_id=other_account,
            )
    finally:
        consumer.stop(timeout=5)
        database.dispose()


@pytest.fixture(scope="session")
def base_url(web_server: WebServer) -> str:
    return web_server.url


@pytest.fixture(scope="session")
def browser(web_server: WebServer) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def blocked_requests() -> list[str]:
    """URLs outside 127.0.0.1 that the page tried to load (and was refused): the dashboard
    and the API documentation must work offline, so a test can assert this stays empty."""
    return []


@pytest.fixture
def page(browser: Any, blocked_requests: list[str]) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, locale="en-US", timezone_id="UTC")
    context.set_default_timeout(20_000)

    def offline_only(route: Any) -> None:
        url = route.request.url
        host = urlsplit(url).hostname or ""
        if url.startswith(("data:", "blob:", "about:")) or host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            blocked_requests.append(url)
            route.abort("internetdisconnected")

    context.route("**/*", offline_only)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def login(page: Any, base_url: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert "/login" not in page.url, f"login as {email} failed: {page.url}"


_screenshot_dir: Path | None = None


def screenshot_dir() -> Path:
    global _screenshot_dir
    if _screenshot_dir is None:
        configured = os.environ.get("PROPENSITY_SCREENSHOT_DIR")
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        folder = Path(configured) if configured else REPO_ROOT / "var" / "screenshots" / stamp
        folder.mkdir(parents=True, exist_ok=True)
        print(f"\nscreenshots: {folder}")
        _screenshot_dir = folder
    return _screenshot_dir


def shot(page: Any, name: str) -> None:
    """Full-page screenshots of the current page at desktop (1280 px) and phone (390 px)
    widths: `<name>-desktop.png` and `<name>-phone.png`."""
    folder = screenshot_dir()
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        page.wait_for_timeout(150)  # charts redraw on resize
        page.screenshot(path=str(folder / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
