"""Self-registration: a new user joins, with the lowest role, the one tenant that agreed to
take strangers.

Off unless enabled; then only into the tenant named by PROPENSITY_REGISTRATION_TENANT (never
a guess, not even the only tenant), and, when PROPENSITY_REGISTRATION_ALLOWED_DOMAINS is set,
only for addresses at those domains. An address that already has an account gets the same
answer as a new one (after the same password hashing), so the endpoint does not tell
strangers which addresses exist."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.db import Database
from propensity.errors import Forbidden
from propensity.models import Role, Tenant, User
from propensity.tenancy.passwords import hash_password
from propensity.tenancy.service import create_user, get_tenant, validate_credentials


def registration_tenant(session: Session, *, configured: str | None) -> Tenant:
    if not configured:
        raise Forbidden(
            "Registration is not configured: set PROPENSITY_REGISTRATION_TENANT to the tenant "
            "that new users may join",
            code="REGISTRATION_DISABLED",
        )
    return get_tenant(session, slug_or_id=configured)


def register_user(
    session: Session,
    *,
    email: str,
    password: str,
    name: str,
    configured_tenant: str | None,
    allowed_domains: Sequence[str] = (),
) -> User | None:
    """The new viewer, or None when the address already has an account (nothing changes)."""
    tenant = registration_tenant(session, configured=configured_tenant)
    email = validate_credentials(email=email, password=password)
    domains = {d.strip().lower().lstrip("@") for d in allowed_domains if d.strip()}
    if domains and email.rsplit("@", 1)[-1] not in domains:
        raise Forbidden(
            "Registration is open only to addresses at this organisation's domains",
            code="REGISTRATION_DISABLED",
        )
    exists = session.execute(
        sa.select(User.id).where(User.email == email).execution_options(skip_tenant_scope=True)
    ).first()
    if exists is not None:
        hash_password(password)  # the time a new account takes, so timing tells nothing either
        return None
    return create_user(
        session, tenant=tenant, email=email, password=password, role=Role.VIEWER, name=name
    )


def register(
    database: Database,
    *,
    email: str,
    password: str,
    name: str,
    configured_tenant: str | None,
    allowed_domains: Sequence[str] = (),
) -> None:
    """Self-registration in its own system unit of work, committed. Raises what register_user
    raises (403, 400)."""
    with database.system_session() as session:
        register_user(
            session,
            email=email,
            password=password,
            name=name,
            configured_tenant=configured_tenant,
            allowed_domains=allowed_domains,
        )
