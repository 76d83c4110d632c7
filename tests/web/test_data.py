"""The /data pages in a real browser: an import reviewed step by step (a bad row refused with
nothing written, then a good file with an edited mapping imported), jobs with live progress
and cancel, webhook subscriptions and API keys whose secrets are shown once, and what a
viewer neither sees nor may do. Rows are counted through the API before and after."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from propensity.jobs import enqueue_job
from tests.web.conftest import WebServer, WebUser, login, shot

GOOD_IDS = ("WEBIMP-1", "WEBIMP-2", "WEBIMP-3")
# Row 2 holds a watch time that is not a number; rows 1 and 3 are good.
BAD_FILE = (
    "customerID,Plan,Hours Watched,Churn\n"
    "WEBIMP-1,pro,12.5,No\n"
    "WEBIMP-2,basic,lots,Yes\n"
    "WEBIMP-3,basic,3,No\n"
)
GOOD_FILE = (
    "customerID,Plan,Hours Watched,Churn\n"
    "WEBIMP-1,pro,12.5,No\n"
    "WEBIMP-2,basic,40,Yes\n"
    "WEBIMP-3,basic,3,No\n"
)


def _found_through_api(server: WebServer, user: WebUser) -> dict[str, Any]:
    """The file's subscribers that `GET /api/customers/{id}` (RetainStream) finds, by id."""
    found = {}
    for external_id in GOOD_IDS:
        response = httpx.get(
            f"{server.url}/api/customers/{external_id}", headers=user.headers, timeout=30
        )
        assert response.status_code in (200, 404), response.text
        if response.status_code == 200:
            found[external_id] = response.json()["data"]
    return found


def _upload(page: Any, server: WebServer, name: str, text: str) -> None:
    page.goto(server.url + "/data/imports")
    page.get_by_label("What the file holds").select_option("customers")
    page.get_by_label("File (.csv").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": text.encode()}
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Upload and preview").click()
    assert re.search(r"/data/imports/[0-9a-f]{32}$", page.url), page.url


def test_a_bad_row_is_listed_and_nothing_is_imported_then_a_good_file_imports(
    page: Any, web_server: WebServer
) -> None:
    analyst = web_server.analyst
    assert _found_through_api(web_server, analyst) == {}
    login(page, web_server.url, analyst.email)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(web_server.url + "/data/imports")
    shot(page, "data-imports")

    _upload(page, web_server, "bad.csv", BAD_FILE)
    preview = page.locator("#preview")
    assert preview.locator("th", has_text="Hours Watched").count() == 1
    assert "WEBIMP-2" in preview.inner_text()
    # The proposal from the names: customerID is the id, Churn the outcome; an unknown
    # column is kept as an attribute until the reviewer says otherwise.
    assert page.get_by_label("Import column customerID as").input_value() == "customer_id"
    assert page.get_by_label("Import column Churn as").input_value() == "churned"
    assert page.get_by_label("Import column Hours Watched as").input_value() == ""
    page.get_by_label("Import column Hours Watched as").select_option("watch_time_hours")
    shot(page, "data-import-review")

    page.get_by_role("button", name="Check all 3 rows").click()
    errors = page.locator("#row-errors tbody tr")
    errors.first.wait_for()
    assert errors.count() == 1
    cells = [c.strip() for c in errors.first.locator("td").all_inner_texts()]
    assert cells[0] == "2" and cells[1] == "watch_time_hours"
    assert "not a number" in cells[2] and "lots" in cells[2]
    assert page.get_by_role("heading", name="Nothing was imported").count() == 1
    assert page.get_by_role("button", name=re.compile(r"^Import \d")).count() == 0
    shot(page, "data-import-row-errors")
    # Importing anyway (the form is not offered; the server checks again) writes nothing.
    upload_url = page.url.removesuffix("/check")
    forced = page.request.post(upload_url + "/import", form={"csrf_token": _csrf(page)})
    assert forced.status == 400 and "not a number" in forced.text()
    assert _found_through_api(web_server, analyst) == {}

    page.get_by_role("button", name="Discard upload").click()
    page.wait_for_url("**/data/imports?notice=*")

    _upload(page, web_server, "good.csv", GOOD_FILE)
    page.get_by_label("Import column Hours Watched as").select_option("watch_time_hours")
    page.get_by_role("button", name="Check all 3 rows").click()
    ok = page.locator("#check-ok")
    ok.wait_for()
    assert "add 3 new and update 0 existing customers" in " ".join(ok.inner_text().split())
    assert _found_through_api(web_server, analyst) == {}  # checked, not yet imported
    shot(page, "data-import-checked")
    with page.expect_navigation():
        page.get_by_role("button", name="Import 3 rows").click()
    assert "Imported 3 customers from good.csv: 3 new, 0 updated." in page.content()

    found = _found_through_api(web_server, analyst)
    assert sorted(found) == list(GOOD_IDS)
    assert found["WEBIMP-2"]["plan"] == "basic"
    assert found["WEBIMP-2"]["watch_time_hours"] == 40.0


def test_uploads_and_jobs_are_only_their_tenants(page: Any, web_server: WebServer) -> None:
    other = web_server.other_admin
    login(page, web_server.url, other.email)
    _upload(page, web_server, "theirs.csv", GOOD_FILE)
    their_upload = page.url
    their_job = _delayed_job(web_server, delay=120, accounts=1, tenant_id=other.tenant_id)
    page.context.clear_cookies()
    login(page, web_server.url, web_server.admin.email)
    for path in (their_upload, f"{web_server.url}/data/jobs/{their_job}"):
        response = page.goto(path)
        assert response is not None and response.status == 404, path
        assert page.get_by_role("heading", name="Not found").count() == 1
    cancel = page.request.post(
        f"{web_server.url}/data/jobs/{their_job}/cancel", form={"csrf_token": _csrf(page)}
    )
    assert cancel.status == 404
    assert web_server.get(f"/api/v1/jobs/{their_job}", other)["status"] == "queued"
    _cancel_through_api(web_server, their_job, other)


def _delayed_job(
    server: WebServer, *, delay: float, accounts: int, tenant_id: int | None = None
) -> str:
    """A real portfolio-scoring job, held in the queue for `delay` seconds so the page sees
    it queued, then running, then done."""
    with server.database.tenant_session(tenant_id or server.tenant_id) as session:
        job = enqueue_job(
            session,
            type="score_portfolio",
            params={"predictionType": "CHURN", "kind": "account", "maxEntities": accounts},
            delay_seconds=delay,
        )
        return job.id


def test_jobs_show_live_progress_and_the_apis_numbers(page: Any, web_server: WebServer) -> None:
    job_id = _delayed_job(web_server, delay=3, accounts=20)
    login(page, web_server.url, web_server.analyst.email)
    page.goto(web_server.url + "/data/jobs")
    row = page.locator(f'tr[data-job-row="{job_id}"]')
    assert row.locator("[data-job-id]").count() == 1  # unfinished: live progress
    shot(page, "data-jobs")
    row.locator('[data-job-state="completed"]').wait_for(timeout=180_000)
    assert "completed" in row.locator("[data-job-status]").inner_text()

    api = web_server.get(f"/api/v1/jobs/{job_id}", web_server.analyst)
    assert api["status"] == "completed" and api["progress"] == 1.0
    page.goto(f"{web_server.url}/data/jobs/{job_id}")
    shown = page.locator("#job-progress-value").inner_text()
    done = f"{api['completed']:,}" + (f" of {api['total']:,}" if api["total"] is not None else "")
    assert shown == f"100% ({done})"
    assert page.get_by_role("button", name="Cancel job").count() == 0
    shot(page, "data-job")


def test_cancel_a_queued_job(page: Any, web_server: WebServer) -> None:
    job_id = _delayed_job(web_server, delay=120, accounts=5)
    login(page, web_server.url, web_server.analyst.email)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{web_server.url}/data/jobs/{job_id}")
    with page.expect_navigation():
        page.get_by_role("button", name="Cancel job").click()
    assert "is cancelled" in page.content()
    assert web_server.get(f"/api/v1/jobs/{job_id}", web_server.analyst)["status"] == "cancelled"


def test_an_api_key_is_shown_once_and_can_be_revoked(page: Any, web_server: WebServer) -> None:
    login(page, web_server.url, web_server.admin.email)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(web_server.url + "/data")
    for label in ("Import", "Jobs", "Webhooks", "API keys"):
        assert (
            page.get_by_role("navigation", name="Data sections")
            .get_by_role("link", name=label, exact=True)
            .is_visible()
        )
    shot(page, "data")
    page.goto(web_server.url + "/data/keys")
    page.get_by_label("Name (what will use it)").fill("Browser test sync")
    page.get_by_label("Role").select_option("viewer")
    page.get_by_role("button", name="Create key").click()
    secret = page.get_by_label("API key (viewer)").input_value()
    prefix = secret.split(".", 1)[0]
    shot(page, "data-keys-created")
    as_key = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(web_server.url + "/api/v1/jobs", headers=as_key).status_code == 200

    page.goto(web_server.url + "/data/keys")
    assert secret not in page.content()
    assert prefix in page.content()
    shot(page, "data-keys")
    listed = web_server.get("/api/v1/api-keys", web_server.admin)
    assert any(k["prefix"] == prefix and k["revokedAt"] is None for k in listed)

    with page.expect_navigation():
        page.get_by_role("button", name="Revoke key Browser test sync").click()
    assert "is revoked" in page.content()
    assert httpx.get(web_server.url + "/api/v1/jobs", headers=as_key).status_code in (401, 403)


@contextmanager
def receiver() -> Iterator[str]:
    """A webhook receiver on 127.0.0.1 that accepts every delivery (tests send nothing
    beyond this machine)."""

    class Accept(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Accept)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/propensity-hook"
    finally:
        server.shutdown()
        server.server_close()


def test_webhook_secret_once_disable_log_delete(page: Any, web_server: WebServer) -> None:
    login(page, web_server.url, web_server.admin.email)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(web_server.url + "/data/webhooks")
    shot(page, "data-webhooks")
    with receiver() as url:
        _webhook_walk(page, web_server, url)


def _webhook_walk(page: Any, web_server: WebServer, url: str) -> None:
    host = url.split("/")[2]
    page.get_by_label("Receiver URL (https)").fill(url)
    page.get_by_label("churn.alert").check()
    page.get_by_role("button", name="Create subscription").click()
    secret = page.get_by_role("textbox", name="Signing secret").input_value()
    assert secret.startswith("whsec_")
    row = page.locator("#webhooks tbody tr", has_text=host)
    with page.expect_navigation():
        row.get_by_role("button", name=re.compile("^Disable")).click()
    assert secret not in page.content()
    row = page.locator("#webhooks tbody tr", has_text=host)
    assert "disabled" in row.inner_text()

    hooks = web_server.get("/api/v1/webhooks", web_server.admin)
    hook = next(h for h in hooks if host in h["url"])
    assert hook["active"] is False and hook["events"] == ["churn.alert"]
    row.get_by_role("link").click()
    page.wait_for_url(f"**/data/webhooks/{hook['id']}")
    with page.expect_navigation():
        page.get_by_role("button", name="Send a test event").click()
    deliveries = page.locator("#deliveries tbody tr")
    assert "webhook.test" in deliveries.first.inner_text()
    shot(page, "data-webhook")
    with page.expect_navigation():
        page.get_by_role("button", name="Delete").click()
    assert "is deleted" in page.content()
    assert all(h["id"] != hook["id"] for h in web_server.get("/api/v1/webhooks", web_server.admin))


def test_a_viewer_sees_no_data_actions_and_the_server_refuses_them(
    page: Any, web_server: WebServer
) -> None:
    viewer = web_server.viewer
    login(page, web_server.url, viewer.email)
    page.goto(web_server.url + "/data")
    shot(page, "data-viewer")
    main = page.locator("main")
    assert main.locator("form").count() == 0  # sign-out is in the header, not in main
    for label in ("Import", "Webhooks", "API keys"):
        assert main.get_by_role("link", name=label, exact=True).count() == 0
    page.goto(web_server.url + "/data/jobs")
    assert page.get_by_role("button", name="Cancel").count() == 0

    for path in ("/data/imports", "/data/webhooks", "/data/keys"):
        response = page.goto(web_server.url + path)
        assert response is not None and response.status == 403, path
        assert page.get_by_role("heading", name="Not allowed").count() == 1

    # With the viewer's own valid CSRF token, so the role is what refuses them.
    token = _csrf(page)
    keys_before = len(web_server.get("/api/v1/api-keys", web_server.admin))
    hooks_before = len(web_server.get("/api/v1/webhooks", web_server.admin))
    job_id = _delayed_job(web_server, delay=120, accounts=1)
    for path, form in (
        ("/data/keys", {"name": "sneaky", "role": "admin"}),
        ("/data/webhooks", {"url": "http://127.0.0.1:9/x", "events": "churn.alert"}),
        ("/data/imports", {"kind": "customers"}),
        (f"/data/jobs/{job_id}/cancel", {}),
    ):
        response = page.request.post(web_server.url + path, form={"csrf_token": token, **form})
        assert response.status == 403, (path, response.status)
        assert "Traceback" not in response.text()
    assert len(web_server.get("/api/v1/api-keys", web_server.admin)) == keys_before
    assert len(web_server.get("/api/v1/webhooks", web_server.admin)) == hooks_before
    assert web_server.get(f"/api/v1/jobs/{job_id}", viewer)["status"] == "queued"
    _cancel_through_api(web_server, job_id)


def _csrf(page: Any) -> str:
    """The CSRF token the current page's forms carry (the sign-out form has one)."""
    token: str = page.locator("input[name=csrf_token]").first.input_value()
    return token


def _cancel_through_api(server: WebServer, job_id: str, user: WebUser | None = None) -> None:
    headers = (user or server.analyst).headers
    response = httpx.post(f"{server.url}/api/v1/jobs/{job_id}/cancel", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
