"""One delivery attempt: claim it, POST the signed event, record what happened.

Each attempt is recorded before the request is sent (number, start) and completed after it
(status code or error, duration), each in its own short transaction, so the log shows every
attempt even when a worker dies mid-request. A delivery changes state only through
conditional updates on (id, attempts, status): of two runs racing for the same attempt, one
sends. Once "delivered" is committed the delivery is never sent again. A worker killed
between the receiver's 2xx and that commit makes the next run send again: delivery is at
least once, and receivers de-duplicate by event id (the same on every attempt).

An attempt has `webhook_deadline_seconds` in all (deadline.py): resolving the host,
connecting to each of its addresses, TLS, sending the event and reading the answer's
headers, however slowly the receiver trickles bytes; one that runs out is a failed attempt
("Deadline exceeded") like any other.

A failed attempt schedules the next one as a new job after backoff * 2^(n-1) seconds; after
`webhook_max_attempts` the delivery fails, and a subscription with
`webhook_disable_after_failures` failed deliveries in a row is disabled with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.db import Database, utcnow
from propensity.errors import PropensityError
from propensity.logs import get_logger
from propensity.metrics import WEBHOOK_DELIVERIES
from propensity.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from propensity.settings import Settings
from propensity.webhooks import signing
from propensity.webhooks.deadline import Deadline, DeadlineExceeded, DeadlineTransport
from propensity.webhooks.events import TEST_EVENT, enqueue_delivery
from propensity.webhooks.url_policy import check_url

log = get_logger(__name__)

MAX_BACKOFF_SECONDS = 6 * 3600.0
ERROR_MAX_CHARS = 500
INTERRUPTED = "Interrupted: the worker stopped before the answer was recorded"
USER_AGENT = "Propensity-Webhooks/1"


@dataclass(frozen=True)
class Claimed:
    """What an attempt needs once its claim is committed (no ORM objects cross sessions)."""

    number: int
    subscription_id: int
    url: str
    secret: str
    event_id: str
    event_type: str
    body: bytes


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: float

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def backoff_delay(settings: Settings, attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based)."""
    return float(min(MAX_BACKOFF_SECONDS, settings.webhook_backoff_seconds * 2.0 ** (attempt - 1)))


def _guarded_update(session: Session, delivery_id: int, number: int, **values: Any) -> bool:
    """Moves a delivery on from the attempt this run claimed, unless another run took it."""
    result = session.execute(
        sa.update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.attempts == number,
            WebhookDelivery.status == DeliveryStatus.SENDING.value,
        )
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _finish_attempt(session: Session, delivery_id: int, number: int, outcome: Outcome) -> None:
    session.execute(
        sa.update(WebhookAttempt)
        .where(
            WebhookAttempt.delivery_id == delivery_id,
            WebhookAttempt.number == number,
            WebhookAttempt.finished_at.is_(None),
        )
        .values(
            finished_at=utcnow(),
            status_code=outcome.status_code,
            error=outcome.error,
            duration_ms=round(outcome.duration_ms, 1),
            ok=outcome.ok,
        )
        .execution_options(synchronize_session=False)
    )


def _claim(session: Session, delivery_id: int, settings: Settings) -> Claimed | str:
    """Claims the next attempt, or says why there is none."""
    row = session.execute(
        sa.select(WebhookDelivery, WebhookSubscription, WebhookEvent)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.id == delivery_id)
    ).first()
    if row is None:
        return "deleted"  # its subscription was deleted
    delivery, subscription, event = row
    if DeliveryStatus(delivery.status).finished:
        return delivery.status
    if delivery.status == DeliveryStatus.SENDING.value:
        # A run died mid-attempt: that attempt failed as far as we can know.
        _finish_attempt(session, delivery.id, delivery.attempts, Outcome(None, INTERRUPTED, 0.0))
        if delivery.attempts >= settings.webhook_max_attempts:
            _give_up(session, delivery.id, delivery.attempts, subscription.id, event.type, settings)
            return DeliveryStatus.FAILED.value
    if not subscription.active and event.type != TEST_EVENT:
        delivery.status = DeliveryStatus.CANCELLED.value
        delivery.last_error = f"Not sent: {subscription.disabled_reason or 'subscription disabled'}"
        delivery.updated_at = utcnow()
        return DeliveryStatus.CANCELLED.value
    number = delivery.attempts + 1
    claimed = session.execute(
        sa.update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery.id,
            WebhookDelivery.attempts == number - 1,
            WebhookDelivery.status.in_(
                [DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value]
            ),
        )
        .values(status=DeliveryStatus.SENDING.value, attempts=number, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]
        return "taken"
    session.add(WebhookAttempt(delivery_id=delivery.id, number=number, started_at=utcnow()))
    return Claimed(
        number=number,
        subscription_id=subscription.id,
        url=subscription.url,
        secret=subscription.secret,
        event_id=event.id,
        event_type=event.type,
        body=event.body.encode(),
    )


def _error_text(exc: httpx.HTTPError) -> str:
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return text[:ERROR_MAX_CHARS]


def deadline_error(seconds: float) -> str:
    return f"Deadline exceeded: no answer within {seconds:g} s"


def _post(claimed: Claimed, settings: Settings) -> Outcome:
    """One attempt, bounded as a whole by `webhook_deadline_seconds` (deadline.py)."""
    with Deadline(settings.webhook_deadline_seconds) as deadline:
        return _post_within(claimed, settings, deadline)


def _post_within(claimed: Claimed, settings: Settings, deadline: Deadline) -> Outcome:
    def took() -> float:
        return deadline.elapsed() * 1000  # on the deadline's clock: a cut attempt took it all

    allow_private = settings.webhook_allow_private_addresses
    try:
        target = deadline.call(lambda: check_url(claimed.url, allow_private=allow_private))
    except DeadlineExceeded:
        return Outcome(None, deadline_error(deadline.seconds), took())
    except PropensityError as exc:
        return Outcome(None, f"Refused: {exc.message}"[:ERROR_MAX_CHARS], took())
    url = httpx.URL(target.url)
    name = f"[{target.host}]" if ":" in target.host else target.host  # an IPv6 literal
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        # Connect to a checked address; name the host as the receiver knows it.
        "Host": name if url.port is None else f"{name}:{target.port}",
        signing.SIGNATURE_HEADER: signing.signature_header(claimed.secret, claimed.body),
        signing.EVENT_ID_HEADER: claimed.event_id,
        signing.EVENT_TYPE_HEADER: claimed.event_type,
        signing.ATTEMPT_HEADER: str(claimed.number),
    }
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    timeout = settings.webhook_timeout_seconds
    unreachable = "No address to connect to"
    # trust_env=False: a proxy from the environment would connect by name, not to the address
    # checked; redirects are not followed (one could point inside).
    with httpx.Client(
        timeout=timeout,
        trust_env=False,
        follow_redirects=False,
        transport=DeadlineTransport(deadline),
    ) as client:
        for address in target.addresses:
            request = client.build_request(
                "POST",
                url.copy_with(host=str(address), port=target.port),
                content=claimed.body,
                headers=headers,
                extensions=extensions,
            )
            try:
                response = client.send(request, stream=True)  # the body is never read
                response.close()
            except httpx.HTTPError as exc:
                # Whatever the exception says (a timeout, or a socket the watchdog shut
                # down), an attempt that ran out of time is reported as such.
                if deadline.expired:
                    return Outcome(None, deadline_error(deadline.seconds), took())
                if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
                    # Nothing was sent: the next address (e.g. IPv4 after IPv6) may answer.
                    unreachable = _error_text(exc)
                    continue
                if isinstance(exc, httpx.TimeoutException):
                    return Outcome(None, f"Timed out after {timeout:g} s", took())
                return Outcome(None, _error_text(exc), took())
            error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
            return Outcome(response.status_code, error, took())
    return Outcome(None, unreachable, took())


def _give_up(
    session: Session,
    delivery_id: int,
    number: int,
    subscription_id: int,
    event_type: str,
    settings: Settings,
) -> None:
    if not _guarded_update(session, delivery_id, number, status=DeliveryStatus.FAILED.value):
        return
    log.warning("webhook_delivery_failed", delivery_id=delivery_id, attempts=number)
    if event_type == TEST_EVENT:
        return  # a ping says nothing about the subscription's regular deliveries
    session.execute(
        sa.update(WebhookSubscription)
        .where(WebhookSubscription.id == subscription_id)
        .values(consecutive_failures=WebhookSubscription.consecutive_failures + 1)
        .execution_options(synchronize_session=False)
    )
    subscription = session.scalar(
        sa.select(WebhookSubscription)
        .where(WebhookSubscription.id == subscription_id)
        .execution_options(populate_existing=True)
    )
    if subscription is None or not subscription.active:
        return
    limit = settings.webhook_disable_after_failures
    if subscription.consecutive_failures >= limit:
        subscription.active = False
        subscription.disabled_at = utcnow()
        subscription.disabled_reason = (
            f"Disabled after {subscription.consecutive_failures} failed deliveries in a row "
            f"(each tried {number} times)"
        )
        subscription.updated_at = utcnow()
        log.warning(
            "webhook_subscription_disabled",
            subscription_id=subscription_id,
            failures=subscription.consecutive_failures,
        )


def _record(
    session: Session, claimed: Claimed, delivery_id: int, outcome: Outcome, settings: Settings
) -> str:
    number = claimed.number
    _finish_attempt(session, delivery_id, number, outcome)
    common = {"last_status_code": outcome.status_code, "last_error": outcome.error}
    if outcome.ok:
        if (
            _guarded_update(
                session,
                delivery_id,
                number,
                status=DeliveryStatus.DELIVERED.value,
                delivered_at=utcnow(),
                next_attempt_at=None,
                **common,
            )
            and claimed.event_type != TEST_EVENT
        ):
            session.execute(
                sa.update(WebhookSubscription)
                .where(
                    WebhookSubscription.id == claimed.subscription_id,
                    WebhookSubscription.consecutive_failures != 0,
                )
                .values(consecutive_failures=0)
                .execution_options(synchronize_session=False)
            )
        return DeliveryStatus.DELIVERED.value
    if number < settings.webhook_max_attempts:
        delay = backoff_delay(settings, number)
        if _guarded_update(
            session,
            delivery_id,
            number,
            status=DeliveryStatus.PENDING.value,
            next_attempt_at=utcnow() + timedelta(seconds=delay),
            **common,
        ):
            enqueue_delivery(session, delivery_id=delivery_id, delay_seconds=delay)
        return DeliveryStatus.PENDING.value
    _guarded_update(session, delivery_id, number, **common)
    _give_up(session, delivery_id, number, claimed.subscription_id, claimed.event_type, settings)
    return DeliveryStatus.FAILED.value


def deliver(
    database: Database, settings: Settings, *, tenant_id: int, delivery_id: int
) -> dict[str, Any]:
    """Makes the delivery's next attempt; returns what the job records."""
    with database.tenant_session(tenant_id) as session:
        claimed = _claim(session, delivery_id, settings)
    if isinstance(claimed, str):
        log.info("webhook_delivery_skipped", delivery_id=delivery_id, reason=claimed)
        WEBHOOK_DELIVERIES.labels(outcome="skipped").inc()
        return {"deliveryId": delivery_id, "skipped": claimed}
    outcome = _post(claimed, settings)
    with database.tenant_session(tenant_id) as session:
        status = _record(session, claimed, delivery_id, outcome, settings)
    WEBHOOK_DELIVERIES.labels(outcome=str(status)).inc()
    log.info(
        "webhook_attempt",
        delivery_id=delivery_id,
        event_id=claimed.event_id,
        attempt=claimed.number,
        status_code=outcome.status_code,
        error=outcome.error,
        delivery_status=status,
    )
    return {
        "deliveryId": delivery_id,
        "eventId": claimed.event_id,
        "attempt": claimed.number,
        "statusCode": outcome.status_code,
        "error": outcome.error,
        "status": status,
    }
