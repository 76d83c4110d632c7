"""CTAs for clients: list and read them, move them along their lifecycle, create by hand.

Generation from predictions lives on the customer-success surface (`generate-cta`); this is
where the tasks are worked: OPEN -> IN_PROGRESS -> COMPLETED, or CANCELLED.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from propensity.ctas.commands import save_cta_update, save_manual_cta
from propensity.ctas.service import (
    MAX_LIST_LIMIT,
    get_cta,
    list_ctas,
)
from propensity.db import utcnow
from propensity.deps import Analyst, IdPath, TenantSession, Viewer
from propensity.errors import InvalidInput
from propensity.models import Cta

router = APIRouter(prefix="/ctas", tags=["ctas"])


class CtaOut(BaseModel):
    id: int
    type: str = Field(description="RISK, RENEWAL or ONBOARDING")
    priority: str = Field(description="HIGH, MEDIUM or LOW")
    title: str
    description: str
    dueDate: datetime  # noqa: N815 - the API's camelCase
    status: str = Field(description="OPEN, IN_PROGRESS, COMPLETED or CANCELLED")
    accountId: int  # noqa: N815
    predictionId: int | None = Field(description="The prediction it was generated from")  # noqa: N815
    reason: str = Field(description="Why it was generated ('Created manually' for manual CTAs)")
    source: str = Field(description="ml or manual")
    createdAt: datetime  # noqa: N815
    updatedAt: datetime  # noqa: N815
    completedAt: datetime | None  # noqa: N815
    cancelledAt: datetime | None  # noqa: N815

    @classmethod
    def of(cls, cta: Cta) -> CtaOut:
        return cls(
            id=cta.id,
            type=cta.type,
            priority=cta.priority,
            title=cta.title,
            description=cta.description,
            dueDate=cta.due_date,
            status=cta.status,
            accountId=cta.customer_id,
            predictionId=cta.prediction_id,
            reason=cta.reason,
            source=cta.source,
            createdAt=cta.created_at,
            updatedAt=cta.updated_at,
            completedAt=cta.completed_at,
            cancelledAt=cta.cancelled_at,
        )


class CtaUpdate(BaseModel):
    status: str | None = Field(
        default=None, description="IN_PROGRESS, COMPLETED or CANCELLED (final states stay final)"
    )
    priority: str | None = Field(default=None, description="HIGH, MEDIUM or LOW")
    dueDate: datetime | None = Field(default=None, description="ISO 8601; UTC when no offset")  # noqa: N815

    model_config = {"json_schema_extra": {"examples": [{"status": "COMPLETED"}]}}


class CtaCreate(BaseModel):
    accountId: int = Field(description="The account (a customer of kind account)")  # noqa: N815
    type: str = Field(description="RISK, RENEWAL or ONBOARDING")
    priority: str = Field(description="HIGH, MEDIUM or LOW")
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=20_000)
    dueDate: datetime | None = Field(  # noqa: N815
        default=None,
        description="ISO 8601; when absent: 5 days (HIGH), 14 (MEDIUM) or 30 (LOW) from today",
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "accountId": 123,
                    "type": "RENEWAL",
                    "priority": "HIGH",
                    "title": "Prepare the renewal business review",
                }
            ]
        }
    }


@router.get("", response_model=list[CtaOut])
def list_endpoint(
    _principal: Viewer,
    session: TenantSession,
    accountId: Annotated[int | None, Query(description="Only this account's CTAs")] = None,  # noqa: N803
    status: Annotated[str | None, Query(description="OPEN, IN_PROGRESS, ...")] = None,
    type: Annotated[str | None, Query(description="RISK, RENEWAL or ONBOARDING")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[CtaOut]:
    ctas = list_ctas(
        session, customer_id=accountId, status=status, type=type, limit=limit, offset=offset
    )
    return [CtaOut.of(cta) for cta in ctas]


@router.get("/{cta_id}", response_model=CtaOut)
def get_endpoint(cta_id: IdPath, _principal: Viewer, session: TenantSession) -> CtaOut:
    return CtaOut.of(get_cta(session, cta_id=cta_id))


@router.patch("/{cta_id}", response_model=CtaOut)
def update_endpoint(
    cta_id: IdPath, body: CtaUpdate, _principal: Analyst, session: TenantSession
) -> CtaOut:
    if body.status is None and body.priority is None and body.dueDate is None:
        raise InvalidInput("Nothing to update: send status, priority or dueDate")
    cta = save_cta_update(
        session,
        cta_id=cta_id,
        status=body.status,
        priority=body.priority,
        due_date=body.dueDate,
        now=utcnow(),
    )
    return CtaOut.of(cta)


@router.post("", response_model=CtaOut, status_code=201)
def create_endpoint(body: CtaCreate, principal: Analyst, session: TenantSession) -> CtaOut:
    cta = save_manual_cta(
        session,
        account_id=body.accountId,
        type=body.type,
        priority=body.priority,
        title=body.title,
        description=body.description,
        due_date=body.dueDate,
        user_id=principal.user_id,
        now=utcnow(),
    )
    return CtaOut.of(cta)
