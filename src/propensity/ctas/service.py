"""CTAs: generation from predictions (de-duplication, cooldown), manual creation, lifecycle,
listing and statistics. Functions flush and never commit: the caller owns the transaction.

Generation checks, in order: the rules (no CTA applies -> skipped with the rules' reason),
then duplicates (an OPEN or IN_PROGRESS CTA with the same account, type and reason ->
"Similar CTA already exists"), then the cooldown (any ML-generated CTA for the account
created within `cooldown_days` -> "CTA cooldown active (N days)"). Duplicates come first
because they name the more specific cause: the open task a manager should look at.

Lifecycle: OPEN -> IN_PROGRESS -> COMPLETED, and OPEN -> COMPLETED for a task done in one
go; OPEN or IN_PROGRESS -> CANCELLED. COMPLETED and CANCELLED are final.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session

from propensity.crm.lookup import find_account
from propensity.ctas.rules import DEFAULT_RULES, CtaRules, choose_cta, due_date_for
from propensity.errors import Conflict, InvalidInput, NotFound
from propensity.models import (
    Cta,
    CtaPriority,
    CtaSource,
    CtaStatus,
    CtaType,
    Customer,
    CustomerKind,
    Prediction,
)
from propensity.timefmt import iso_z
from propensity.webhooks import hooks as webhook_hooks

MAX_LIST_LIMIT = 200
MANUAL_REASON = "Created manually"
SIMILAR_EXISTS = "Similar CTA already exists"
ACTIVE_STATUSES = (CtaStatus.OPEN.value, CtaStatus.IN_PROGRESS.value)
NEXT_STATUSES: dict[CtaStatus, tuple[CtaStatus, ...]] = {
    CtaStatus.OPEN: (CtaStatus.IN_PROGRESS, CtaStatus.COMPLETED, CtaStatus.CANCELLED),
    CtaStatus.IN_PROGRESS: (CtaStatus.COMPLETED, CtaStatus.CANCELLED),
    CtaStatus.COMPLETED: (),
    CtaStatus.CANCELLED: (),
}
# A manual CTA without a due date gets the generated CTAs' due date for its priority.
_PRIORITY_URGENCY = {
    CtaPriority.HIGH: "this_week",
    CtaPriority.MEDIUM: "this_month",
    CtaPriority.LOW: "monitor",
}


@dataclass(frozen=True, kw_only=True)
class CtaOutcome:
    cta: Cta | None
    prediction_id: int
    generation_reason: str
    was_created: bool
    skipped_reason: str | None = None


class CtaStats(TypedDict):
    totalGenerated: int
    openCount: int
    completedCount: int
    completionRate: float
    byType: dict[str, int]
    averageResolutionDays: float | None


def cooldown_reason(days: int) -> str:
    return f"CTA cooldown active ({days} day{'s' if days != 1 else ''})"


_E = TypeVar("_E", CtaType, CtaPriority, CtaStatus)


def _parse(enum: type[_E], value: str, field: str) -> _E:
    try:
        return enum(value.strip().upper())
    except ValueError:
        choices = ", ".join(member.value for member in enum)
        raise InvalidInput(f"{field} must be one of {choices}; got '{value}'") from None


def parse_type(value: str) -> CtaType:
    return _parse(CtaType, value, "type")


def parse_priority(value: str) -> CtaPriority:
    return _parse(CtaPriority, value, "priority")


def parse_status(value: str) -> CtaStatus:
    return _parse(CtaStatus, value, "status")


def _utc(value: datetime) -> datetime:
    """Due dates are stored and returned in UTC; a time without an offset is taken as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _skip(prediction: Prediction, reason: str, skipped: str) -> CtaOutcome:
    return CtaOutcome(
        cta=None,
        prediction_id=prediction.id,
        generation_reason=reason,
        was_created=False,
        skipped_reason=skipped,
    )


def _open_cta(
    session: Session, *, source: CtaSource, user_id: int | None, now: datetime, **fields: Any
) -> Cta:
    """A new OPEN CTA from `source`, flushed so it has its id."""
    cta = Cta(
        **fields,
        status=CtaStatus.OPEN.value,
        source=source.value,
        created_by_user_id=user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(cta)
    session.flush()
    return cta


def generate_cta(
    session: Session,
    *,
    customer: Customer,
    prediction: Prediction,
    threshold: float | None,
    user_id: int | None,
    now: datetime,
    cooldown_days: int = 7,
    rules: CtaRules = DEFAULT_RULES,
) -> CtaOutcome:
    """Creates the CTA the prediction calls for, unless it is a duplicate or in cooldown."""
    if customer.kind != CustomerKind.ACCOUNT.value:
        raise InvalidInput(f"CTAs are for accounts; customer {customer.id} is a {customer.kind}")
    if prediction.customer_id != customer.id:
        raise InvalidInput(f"Prediction {prediction.id} is not about account {customer.id}")
    if cooldown_days < 0:
        raise InvalidInput("cooldown_days must be zero or more")
    decision = choose_cta(
        prediction_type=prediction.prediction_type,
        probability=prediction.probability,
        threshold=threshold,
        outputs=prediction.outputs or {},
        predicted_value=prediction.predicted_value,
        explanation=prediction.explanation,
        renewal_date=customer.renewal_date,
        account_created_at=customer.created_at,
        now=now,
        rules=rules,
    )
    draft = decision.draft
    if draft is None:
        return _skip(prediction, decision.reason, decision.reason)

    similar = session.scalar(
        sa.select(Cta.id)
        .where(
            Cta.customer_id == customer.id,
            Cta.type == draft.type.value,
            Cta.reason == draft.reason,
            Cta.status.in_(ACTIVE_STATUSES),
        )
        .limit(1)
    )
    if similar is not None:
        return _skip(prediction, draft.reason, SIMILAR_EXISTS)
    recent = session.scalar(
        sa.select(Cta.id)
        .where(
            Cta.customer_id == customer.id,
            Cta.source == CtaSource.ML.value,
            Cta.created_at > now - timedelta(days=cooldown_days),
        )
        .limit(1)
    )
    if recent is not None:
        return _skip(prediction, draft.reason, cooldown_reason(cooldown_days))

    cta = _open_cta(
        session,
        source=CtaSource.ML,
        user_id=user_id,
        now=now,
        customer_id=customer.id,
        prediction_id=prediction.id,
        type=draft.type.value,
        priority=draft.priority.value,
        title=draft.title,
        description=draft.description,
        reason=draft.reason,
        due_date=draft.due_date,
    )
    webhook_hooks.cta_generated(session, cta={**cta_json(cta), "predictionId": prediction.id})
    return CtaOutcome(
        cta=cta, prediction_id=prediction.id, generation_reason=draft.reason, was_created=True
    )


def get_account(session: Session, *, account_id: int) -> Customer:
    customer = find_account(session, account_id=account_id)
    if customer is None:
        raise NotFound(f"Account {account_id} not found", code="ACCOUNT_NOT_FOUND")
    return customer


def create_manual_cta(
    session: Session,
    *,
    account_id: int,
    type: str,
    priority: str,
    title: str,
    description: str = "",
    due_date: datetime | None = None,
    user_id: int | None,
    now: datetime,
) -> Cta:
    """A CTA a manager creates by hand; without a due date it is due as a generated one of
    the same priority would be (HIGH 5 days, MEDIUM 14, LOW 30)."""
    cta_type, cta_priority = parse_type(type), parse_priority(priority)
    if not title.strip():
        raise InvalidInput("title must not be empty")
    account = get_account(session, account_id=account_id)
    if due_date is None:
        due_date = due_date_for(
            urgency=_PRIORITY_URGENCY[cta_priority],
            today=now.astimezone(UTC).date(),
            renewal_date=None,
        )
    return _open_cta(
        session,
        source=CtaSource.MANUAL,
        user_id=user_id,
        now=now,
        customer_id=account.id,
        type=cta_type.value,
        priority=cta_priority.value,
        title=title.strip(),
        description=description,
        reason=MANUAL_REASON,
        due_date=_utc(due_date),
    )


def get_cta(session: Session, *, cta_id: int) -> Cta:
    cta = session.scalar(sa.select(Cta).where(Cta.id == cta_id))
    if cta is None:
        raise NotFound(f"CTA {cta_id} not found", code="CTA_NOT_FOUND")
    return cta


def _transition(cta: Cta, wanted: CtaStatus, now: datetime) -> None:
    current = CtaStatus(cta.status)
    if wanted is current:
        return
    allowed = NEXT_STATUSES[current]
    if wanted not in allowed:
        raise Conflict(
            f"CTA {cta.id} is {current.value}; it can move to "
            f"{', '.join(s.value for s in allowed)}, not {wanted.value}",
            code="INVALID_TRANSITION",
            details={"status": current.value, "allowed": [s.value for s in allowed]},
        )
    cta.status = wanted.value
    if wanted is CtaStatus.COMPLETED:
        cta.completed_at = now
    elif wanted is CtaStatus.CANCELLED:
        cta.cancelled_at = now


def update_cta(
    session: Session,
    *,
    cta_id: int,
    status: str | None = None,
    priority: str | None = None,
    due_date: datetime | None = None,
    now: datetime,
) -> Cta:
    """Moves a CTA along its lifecycle and/or changes its priority or due date."""
    wanted = None if status is None else parse_status(status)
    new_priority = None if priority is None else parse_priority(priority)
    cta = get_cta(session, cta_id=cta_id)
    current = CtaStatus(cta.status)
    if not NEXT_STATUSES[current]:
        raise Conflict(
            f"CTA {cta.id} is {current.value}, which is final; create a new CTA instead",
            code="INVALID_TRANSITION",
            details={"status": current.value, "allowed": []},
        )
    if wanted is not None:
        _transition(cta, wanted, now)
    if new_priority is not None:
        cta.priority = new_priority.value
    if due_date is not None:
        cta.due_date = _utc(due_date)
    cta.updated_at = now
    session.flush()
    return cta


def list_ctas(
    session: Session,
    *,
    customer_id: int | None = None,
    status: str | None = None,
    type: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Cta]:
    """Newest first."""
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIST_LIMIT}")
    if offset < 0:
        raise InvalidInput("offset must be zero or more")
    query = sa.select(Cta).order_by(Cta.created_at.desc(), Cta.id.desc())
    if customer_id is not None:
        query = query.where(Cta.customer_id == customer_id)
    if status is not None:
        query = query.where(Cta.status == parse_status(status).value)
    if type is not None:
        query = query.where(Cta.type == parse_type(type).value)
    return list(session.scalars(query.limit(limit).offset(offset)))


def _counts(session: Session, column: Mapped[str], source: str) -> dict[str, int]:
    query = sa.select(column, sa.func.count()).where(Cta.source == source).group_by(column)
    return {value: count for value, count in session.execute(query)}


def cta_stats(session: Session, *, source: str = CtaSource.ML.value) -> CtaStats:
    """completionRate = completed / all generated (3 decimals, 0 when none);
    averageResolutionDays = mean of completed_at - created_at over completed CTAs (1 decimal,
    None when none). Computed in Python because date arithmetic differs between backends."""
    by_status = _counts(session, Cta.status, source)
    by_type = _counts(session, Cta.type, source)
    total = sum(by_status.values())
    completed = by_status.get(CtaStatus.COMPLETED.value, 0)
    durations = [
        (done - created).total_seconds() / 86_400
        for created, done in session.execute(
            sa.select(Cta.created_at, Cta.completed_at).where(
                Cta.source == source,
                Cta.status == CtaStatus.COMPLETED.value,
                Cta.completed_at.is_not(None),
            )
        )
        if done is not None
    ]
    return CtaStats(
        totalGenerated=total,
        openCount=sum(by_status.get(s, 0) for s in ACTIVE_STATUSES),
        completedCount=completed,
        completionRate=round(completed / total, 3) if total else 0.0,
        byType={t.value: by_type.get(t.value, 0) for t in CtaType},
        averageResolutionDays=(round(sum(durations) / len(durations), 1) if durations else None),
    )


def cta_json(cta: Cta) -> dict[str, Any]:
    """The customer-success document's CTA, plus accountId, reason, createdAt, completedAt."""
    return {
        "id": cta.id,
        "type": cta.type,
        "priority": cta.priority,
        "title": cta.title,
        "description": cta.description,
        "dueDate": iso_z(cta.due_date),
        "status": cta.status,
        "accountId": cta.customer_id,
        "reason": cta.reason,
        "createdAt": iso_z(cta.created_at),
        "completedAt": iso_z(cta.completed_at),
    }
