"""Plain factory functions for test data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from propensity.db import Database
from propensity.settings import Settings
from propensity.tenancy.models import Role
from propensity.tenancy.service import create_tenant, create_user, token_for

DEFAULT_PASSWORD = "correct-horse-battery"


@dataclass(frozen=True)
class TenantUser:
    tenant_id: int
    tenant_slug: str
    user_id: int
    email: str
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def tenant_headers(self) -> dict[str, str]:
        return {**self.headers, "X-Tenant-ID": str(self.tenant_id)}


def make_tenant_user(
    database: Database,
    settings: Settings,
    *,
    slug: str = "acme",
    email: str | None = None,
    role: Role = Role.ADMIN,
    password: str = DEFAULT_PASSWORD,
    existing_tenant: bool = False,
) -> TenantUser:
    from propensity.tenancy.service import get_tenant

    with database.system_session() as session:
        tenant = (
            get_tenant(session, slug_or_id=slug)
            if existing_tenant
            else create_tenant(session, slug=slug)
        )
        user = create_user(
            session,
            tenant=tenant,
            email=email or f"{role.value}@{slug}.example.com",
            password=password,
            role=role,
        )
        token = token_for(user=user, key=settings.signing_key(), lifetime=timedelta(minutes=30))
        return TenantUser(tenant.id, tenant.slug, user.id, user.email, user.role, token)
