"""Webhook subscriptions and their delivery log.

Admins create, change and delete subscriptions; the secret that signs deliveries is shown
once, in the creation response. Analysts and admins read subscriptions and the delivery log
(every attempt of every delivery: time, response code or error).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from propensity.deps import Admin, Analyst, AppSettings, IdPath, TenantSession
from propensity.errors import InvalidInput
from propensity.models import DeliveryStatus, WebhookAttempt, WebhookSubscription
from propensity.webhooks.events import EVENT_TYPES
from propensity.webhooks.service import (
    MAX_LIST_LIMIT,
    DeliveryLogEntry,
    create_subscription,
    delete_subscription,
    delivery_log,
    get_subscription,
    list_subscriptions,
    send_test,
    update_subscription,
)
from propensity.webhooks.signing import SIGNATURE_HEADER

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


class WebhookCreate(BaseModel):
    url: str = Field(max_length=2048, description="http(s) URL of the receiver")
    events: list[str] = Field(min_length=1, max_length=20, description="Event types to send")
    description: str = Field(default="", max_length=500)
    active: bool = True

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "url": "https://hooks.example.com/propensity",
                    "events": ["churn.alert", "model.trained"],
                    "description": "CS team alerts",
                }
            ]
        }
    }


class WebhookUpdate(BaseModel):
    url: str | None = Field(default=None, max_length=2048)
    events: list[str] | None = Field(default=None, min_length=1, max_length=20)
    description: str | None = Field(default=None, max_length=500)
    active: bool | None = Field(
        default=None, description="true re-enables a disabled subscription (failures reset)"
    )


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    description: str
    active: bool
    disabledReason: str | None  # noqa: N815 - the API's camelCase
    disabledAt: datetime | None  # noqa: N815
    consecutiveFailures: int = Field(description="Failed deliveries in a row")  # noqa: N815
    createdAt: datetime  # noqa: N815
    updatedAt: datetime  # noqa: N815

    @classmethod
    def of(cls, sub: WebhookSubscription) -> WebhookOut:
        return cls(
            id=sub.id,
            url=sub.url,
            events=list(sub.events),
            description=sub.description,
            active=sub.active,
            disabledReason=sub.disabled_reason,
            disabledAt=sub.disabled_at,
            consecutiveFailures=sub.consecutive_failures,
            createdAt=sub.created_at,
            updatedAt=sub.updated_at,
        )


class WebhookCreated(WebhookOut):
    secret: str = Field(
        description=f"Signs every delivery ({SIGNATURE_HEADER}); shown only in this response"
    )


class AttemptOut(BaseModel):
    number: int
    startedAt: datetime  # noqa: N815
    finishedAt: datetime | None  # noqa: N815
    statusCode: int | None  # noqa: N815
    error: str | None
    durationMs: float | None  # noqa: N815
    ok: bool

    @classmethod
    def of(cls, attempt: WebhookAttempt) -> AttemptOut:
        return cls(
            number=attempt.number,
            startedAt=attempt.started_at,
            finishedAt=attempt.finished_at,
            statusCode=attempt.status_code,
            error=attempt.error,
            durationMs=attempt.duration_ms,
            ok=attempt.ok,
        )


class DeliveryOut(BaseModel):
    id: int
    eventId: str  # noqa: N815
    eventType: str  # noqa: N815
    status: str = Field(description="pending, sending, delivered, failed or cancelled")
    attemptCount: int  # noqa: N815
    lastStatusCode: int | None  # noqa: N815
    lastError: str | None  # noqa: N815
    nextAttemptAt: datetime | None  # noqa: N815
    deliveredAt: datetime | None  # noqa: N815
    createdAt: datetime  # noqa: N815
    attempts: list[AttemptOut]

    @classmethod
    def of(cls, entry: DeliveryLogEntry) -> DeliveryOut:
        d = entry.delivery
        return cls(
            id=d.id,
            eventId=d.event_id,
            eventType=entry.event_type,
            status=d.status,
            attemptCount=d.attempts,
            lastStatusCode=d.last_status_code,
            lastError=d.last_error,
            nextAttemptAt=d.next_attempt_at if d.status == DeliveryStatus.PENDING.value else None,
            deliveredAt=d.delivered_at,
            createdAt=d.created_at,
            attempts=[AttemptOut.of(a) for a in entry.attempts],
        )


@router.get("/events", response_model=list[str])
def events_endpoint(_principal: Analyst) -> list[str]:
    """The event types a subscription can name."""
    return list(EVENT_TYPES)


@router.post("", response_model=WebhookCreated, status_code=201)
def create_endpoint(
    body: WebhookCreate, principal: Admin, session: TenantSession, settings: AppSettings
) -> WebhookCreated:
    sub, secret = create_subscription(
        session,
        url=body.url,
        events=body.events,
        description=body.description,
        active=body.active,
        created_by=principal.user_id,
        settings=settings,
    )
    out = WebhookCreated(**WebhookOut.of(sub).model_dump(), secret=secret)
    session.commit()
    return out


@router.get("", response_model=list[WebhookOut])
def list_endpoint(_principal: Analyst, session: TenantSession) -> list[WebhookOut]:
    return [WebhookOut.of(sub) for sub in list_subscriptions(session)]


@router.get("/{webhook_id}", response_model=WebhookOut)
def get_endpoint(webhook_id: IdPath, _principal: Analyst, session: TenantSession) -> WebhookOut:
    return WebhookOut.of(get_subscription(session, subscription_id=webhook_id))


@router.patch("/{webhook_id}", response_model=WebhookOut)
def update_endpoint(
    webhook_id: IdPath,
    body: WebhookUpdate,
    _principal: Admin,
    session: TenantSession,
    settings: AppSettings,
) -> WebhookOut:
    if (
        body.url is None
        and body.events is None
        and body.description is None
        and body.active is None
    ):
        raise InvalidInput("Nothing to update: send url, events, description or active")
    sub = update_subscription(
        session,
        subscription_id=webhook_id,
        url=body.url,
        events=body.events,
        description=body.description,
        active=body.active,
        settings=settings,
    )
    out = WebhookOut.of(sub)
    session.commit()
    return out


@router.delete("/{webhook_id}", status_code=204)
def delete_endpoint(webhook_id: IdPath, _principal: Admin, session: TenantSession) -> None:
    delete_subscription(session, subscription_id=webhook_id)
    session.commit()


@router.get("/{webhook_id}/deliveries", response_model=list[DeliveryOut])
def deliveries_endpoint(
    webhook_id: IdPath,
    _principal: Analyst,
    session: TenantSession,
    status: Annotated[str | None, Query(description="pending, delivered, failed...")] = None,
    eventId: Annotated[str | None, Query(description="Only this event's delivery")] = None,  # noqa: N803
    limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[DeliveryOut]:
    if status is not None and status.strip().lower() not in {s.value for s in DeliveryStatus}:
        choices = ", ".join(s.value for s in DeliveryStatus)
        raise InvalidInput(f"status must be one of {choices}", details={"field": "status"})
    entries = delivery_log(
        session,
        subscription_id=webhook_id,
        status=status,
        event_id=eventId,
        limit=limit,
        offset=offset,
    )
    return [DeliveryOut.of(entry) for entry in entries]


@router.post("/{webhook_id}/test", response_model=DeliveryOut, status_code=202)
def test_endpoint(webhook_id: IdPath, _principal: Admin, session: TenantSession) -> DeliveryOut:
    """Sends a `webhook.test` event to this subscription (even a disabled one) through the
    queue; follow it in the delivery log."""
    delivery = send_test(session, subscription_id=webhook_id)
    out = DeliveryOut.of(DeliveryLogEntry(delivery, "webhook.test", []))
    session.commit()
    return out
