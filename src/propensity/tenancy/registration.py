"""Self-registration: a new user joins the configured tenant with the lowest role."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.db import Database
from propensity.errors import Forbidden
from propensity.models import Role, Tenant, User
from propensity.tenancy.service import create_user, get_tenant


def registration_tenant(session: Session, *, configured: str | None) -> Tenant:
    if configured:
        return get_tenant(session, slug_or_id=configured)
    tenants = list(session.scalars(sa.select(Tenant).limit(2)))
    if len(tenants) != 1:
        # With several tenants, guessing which one a stranger joins would leak data.
        raise Forbidden(
            "Registration is not configured: set PROPENSITY_REGISTRATION_TENANT",
            code="REGISTRATION_DISABLED",
        )
    return tenants[0]


def register_user(
    session: Session, *, email: str, password: str, name: str, configured_tenant: str | None
) -> User:
    tenant = registration_tenant(session, configured=configured_tenant)
    return create_user(
        session, tenant=tenant, email=email, password=password, role=Role.VIEWER, name=name
    )


def register(
    database: Database, *, email: str, password: str, name: str, configured_tenant: str | None
) -> None:
    """Self-registration in its own system unit of work: a new viewer of the configured (or
    the only) tenant, committed. Raises what register_user raises (403, 409, 400)."""
    with database.system_session() as session:
        register_user(
            session,
            email=email,
            password=password,
            name=name,
            configured_tenant=configured_tenant,
        )
