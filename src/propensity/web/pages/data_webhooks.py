"""`/data/webhooks`: webhook subscriptions and their delivery log, as `/api/v1/webhooks` has
them: analysts and admins read (webhooks.service.list_subscriptions, delivery_log); admins
create (the signing secret shown once, in the answer to the form), disable or re-enable,
delete and send a test event, through the same service functions (webhooks.commands, which
commit).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from propensity.errors import NotFound, PropensityError
from propensity.models import DeliveryStatus, WebhookSubscription
from propensity.web.context import AdminPage, AnalystPage, CsrfForm, PageContext
from propensity.web.pages.data_common import path_id, redirect_with
from propensity.web.render import render
from propensity.webhooks.commands import ping, set_subscription_active, subscribe, unsubscribe
from propensity.webhooks.events import EVENT_TYPES
from propensity.webhooks.service import delivery_log, get_subscription, list_subscriptions
from propensity.webhooks.signing import SIGNATURE_HEADER

router = APIRouter(include_in_schema=False)
LOG_PAGE = 50
EVENT_HELP = {
    "prediction.created": "a prediction was made",
    "prediction.high_risk": "a prediction crossed into high churn risk",
    "prediction.completed": "a batch of predictions finished",
    "prediction.validated": "a prediction was judged against what happened",
    "cta.auto_generated": "a call to action was created for an account at risk",
    "model.trained": "a model finished training",
    "churn.alert": "a customer's churn risk calls for attention",
}


def _list_page(
    ctx: PageContext,
    *,
    created: WebhookSubscription | None = None,
    secret: str | None = None,
    problem: str | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        ctx,
        "data/webhooks.html",
        status_code=status_code,
        section="webhooks",
        hooks=list_subscriptions(ctx.session),
        events=[(name, EVENT_HELP.get(name, "")) for name in EVENT_TYPES],
        created=created,
        secret=secret,
        signature_header=SIGNATURE_HEADER,
        problem=problem,
        form=form or {"url": "", "events": [], "description": ""},
    )


@router.get("/data/webhooks")
def webhooks_page(ctx: AnalystPage) -> HTMLResponse:
    return _list_page(ctx)


@router.post("/data/webhooks")
def create(ctx: AdminPage, form: CsrfForm) -> HTMLResponse:
    url = str(form.get("url") or "").strip()
    events = [str(e) for e in form.getlist("events")]
    description = str(form.get("description") or "").strip()[:500]
    entered = {"url": url, "events": events, "description": description}
    if not url:
        return _list_page(ctx, problem="Give the receiver's URL.", form=entered, status_code=400)
    if not events:
        return _list_page(
            ctx, problem="Choose at least one event to send.", form=entered, status_code=400
        )
    try:
        sub, secret = subscribe(
            ctx.session,
            url=url,
            events=events,
            description=description,
            created_by=ctx.principal.user_id,
            settings=ctx.settings,
        )
    except PropensityError as exc:
        return _list_page(ctx, problem=exc.message, form=entered, status_code=exc.status_code)
    # The secret is in this answer only: it is not stored anywhere the pages can read again.
    return _list_page(ctx, created=sub, secret=secret, status_code=201)


def _subscription_id(raw: str) -> int:
    return path_id(raw, not_found="Webhook subscription not found", code="WEBHOOK_NOT_FOUND")


@router.get("/data/webhooks/{webhook_id}")
def webhook_page(
    webhook_id: str,
    ctx: AnalystPage,
    status: Annotated[str | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    sub = get_subscription(ctx.session, subscription_id=_subscription_id(webhook_id))
    wanted = status if status in {s.value for s in DeliveryStatus} else None
    # One more than a page tells whether there is a next page.
    entries = delivery_log(
        ctx.session,
        subscription_id=sub.id,
        status=wanted,
        limit=LOG_PAGE + 1,
        offset=(page - 1) * LOG_PAGE,
    )
    return render(
        ctx,
        "data/webhook.html",
        section="webhooks",
        hook=sub,
        entries=entries[:LOG_PAGE],
        has_next=len(entries) > LOG_PAGE,
        page=page,
        status=wanted or "",
        statuses=[s.value for s in DeliveryStatus],
    )


@router.post("/data/webhooks/{webhook_id}/active")
def set_active(webhook_id: str, ctx: AdminPage, form: CsrfForm) -> Response:
    active = str(form.get("active") or "") == "1"
    back = f"/data/webhooks/{webhook_id}" if form.get("next") == "detail" else "/data/webhooks"
    try:
        sub = set_subscription_active(
            ctx.session,
            subscription_id=_subscription_id(webhook_id),
            active=active,
            settings=ctx.settings,
        )
    except NotFound:
        raise
    except PropensityError as exc:
        return redirect_with(back, problem=exc.message)
    state = "re-enabled" if active else "disabled"
    return redirect_with(back, notice=f"The subscription to {sub.url} is {state}.")


@router.post("/data/webhooks/{webhook_id}/delete")
def delete(webhook_id: str, ctx: AdminPage, _form: CsrfForm) -> Response:
    subscription_id = _subscription_id(webhook_id)
    url = get_subscription(ctx.session, subscription_id=subscription_id).url
    unsubscribe(ctx.session, subscription_id=subscription_id)
    return redirect_with("/data/webhooks", notice=f"The subscription to {url} is deleted.")


@router.post("/data/webhooks/{webhook_id}/test")
def test(webhook_id: str, ctx: AdminPage, _form: CsrfForm) -> Response:
    delivery = ping(ctx.session, subscription_id=_subscription_id(webhook_id))
    return redirect_with(
        f"/data/webhooks/{webhook_id}",
        notice=f"A test event ({delivery.event_id}) is on its way; its delivery is below.",
    )
