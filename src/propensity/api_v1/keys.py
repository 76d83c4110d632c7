"""API keys for machine clients: created by admins, shown once, stored hashed."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from propensity.deps import Admin, IdPath, TenantSession
from propensity.models import ApiKey, Role, Tenant
from propensity.tenancy.service import (
    DEFAULT_KEY_DAYS,
    MAX_KEY_DAYS,
    create_api_key,
    list_api_keys,
    parse_role,
    revoke_api_key,
)

router = APIRouter(prefix="/api-keys", tags=["api keys"])


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    role: str = Field(default=Role.ANALYST.value, description="viewer, analyst or admin")
    expiresInDays: int = Field(  # noqa: N815 - the documents' casing
        default=DEFAULT_KEY_DAYS,
        ge=1,
        le=MAX_KEY_DAYS,
        description="Days the key works; it also stops when its creator is deactivated",
    )


class ApiKeyOut(BaseModel):
    id: int
    name: str
    prefix: str
    role: str
    createdAt: datetime  # noqa: N815 - the documents' casing
    lastUsedAt: datetime | None  # noqa: N815
    revokedAt: datetime | None  # noqa: N815
    expiresAt: datetime | None  # noqa: N815

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        return cls(
            id=key.id,
            name=key.name,
            prefix=key.prefix,
            role=key.role,
            createdAt=key.created_at,
            lastUsedAt=key.last_used_at,
            revokedAt=key.revoked_at,
            expiresAt=key.expires_at,
        )


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The secret; shown only in this response")


@router.post("", response_model=ApiKeyCreated, status_code=201)
def create_key(body: ApiKeyCreate, principal: Admin, session: TenantSession) -> ApiKeyCreated:
    tenant = session.get(Tenant, principal.tenant_id)
    assert tenant is not None
    key, secret = create_api_key(
        session,
        tenant=tenant,
        name=body.name,
        role=parse_role(body.role),
        created_by=principal.user_id,
        expires_in_days=body.expiresInDays,
    )
    out = ApiKeyCreated(**ApiKeyOut.of(key).model_dump(), key=secret)
    session.commit()
    return out


@router.get("", response_model=list[ApiKeyOut])
def list_keys(_principal: Admin, session: TenantSession) -> list[ApiKeyOut]:
    return [ApiKeyOut.of(key) for key in list_api_keys(session)]


@router.delete("/{key_id}", status_code=204)
def revoke_key(key_id: IdPath, _principal: Admin, session: TenantSession) -> None:
    revoke_api_key(session, key_id=key_id)
    session.commit()
