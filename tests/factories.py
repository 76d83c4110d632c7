"""Plain factory functions for test data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from propensity.db import Database
from propensity.models import Role
from propensity.settings import Settings
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


def make_simulated_tenant(
    database: Database,
    settings: Settings,
    *,
    slug: str = "sim",
    accounts: int = 0,
    subscribers: int = 0,
    leads: int = 0,
    seed: int = 11,
) -> TenantUser:
    """A tenant filled by the demo simulator (small sizes), with an admin user."""
    import datetime as dt

    from propensity.crm.service import import_frame
    from propensity.simulator import SimulationConfig, simulate

    user = make_tenant_user(database, settings, slug=slug)
    data = simulate(
        SimulationConfig(
            seed=seed,
            end=dt.date(2026, 6, 1),
            n_accounts=accounts,
            n_subscribers=subscribers,
            n_leads=leads,
            n_deals=0,
        )
    )
    with database.tenant_session(user.tenant_id) as session:
        for frame, kind in (
            (data.accounts, "customers"),
            (data.subscribers, "customers"),
            (data.leads, "leads"),
            (data.health, "health"),
            (data.events, "events"),
        ):
            if len(frame):
                import_frame(session, kind=kind, frame=frame)
    return user
