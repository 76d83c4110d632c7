"""Tenants, users, logins and API keys."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.db import Database, utcnow
from propensity.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from propensity.models import ApiKey, Role, Tenant, User
from propensity.tenancy.passwords import (
    api_key_matches,
    generate_api_key,
    hash_api_key,
    hash_password,
    verify_password,
)
from propensity.tenancy.principals import credentials_changed
from propensity.tenancy.tokens import TokenClaims, issue_token

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8
# A constant hash to verify against when the email is unknown, so a login takes the same
# time whether or not the account exists.
_DUMMY_HASH = hash_password("propensity-timing-equaliser")


@dataclass(frozen=True, kw_only=True)
class Principal:
    """Who is calling: a user (by token) or a machine client (by API key)."""

    tenant_id: int
    tenant_slug: str
    role: Role
    user_id: int | None = None
    api_key_id: int | None = None
    email: str | None = None

    def can(self, required: Role) -> bool:
        return self.role.allows(required)


LAST_USED_RESOLUTION = timedelta(minutes=1)
# How long an API key works unless its creator asks for another term, and the longest term.
DEFAULT_KEY_DAYS = 365
MAX_KEY_DAYS = 3650


def create_tenant(session: Session, *, slug: str, name: str | None = None) -> Tenant:
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug):
        raise InvalidInput(
            "Tenant name must be 1-63 characters of lowercase letters, digits, '-' or '_'",
            details={"name": slug},
        )
    if session.scalar(sa.select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise Conflict(f"Tenant '{slug}' already exists", details={"name": slug})
    tenant = Tenant(slug=slug, name=name or slug, settings={})
    session.add(tenant)
    session.flush()
    return tenant


def get_tenant(session: Session, *, slug_or_id: str | int) -> Tenant:
    query = sa.select(Tenant)
    if isinstance(slug_or_id, int) or str(slug_or_id).isdigit():
        query = query.where(Tenant.id == int(slug_or_id))
    else:
        query = query.where(Tenant.slug == str(slug_or_id).lower())
    tenant = session.scalar(query)
    if tenant is None:
        raise NotFound(f"Tenant '{slug_or_id}' not found")
    return tenant


def parse_role(value: str) -> Role:
    try:
        return Role(value.lower())
    except ValueError as exc:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidInput(f"Unknown role '{value}': use one of {allowed}") from exc


def validate_credentials(*, email: str, password: str) -> str:
    email = email.strip().lower()
    if not EMAIL_RE.match(email):
        raise InvalidInput("A valid email address is required", details={"field": "email"})
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Password must be at least {MIN_PASSWORD_LENGTH} characters",
            details={"field": "password"},
        )
    return email


def create_user(
    session: Session,
    *,
    tenant: Tenant,
    email: str,
    password: str,
    role: Role,
    name: str = "",
) -> User:
    email = validate_credentials(email=email, password=password)
    exists = session.execute(
        sa.select(User.id).where(User.email == email).execution_options(skip_tenant_scope=True)
    ).first()
    if exists is not None:
        raise Conflict("A user with this email already exists", details={"field": "email"})
    user = User(
        tenant_id=tenant.id,
        email=email,
        name=name or email.split("@")[0],
        password_hash=hash_password(password),
        role=role.value,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, *, email: str, password: str) -> tuple[User, Tenant]:
    """Checks a login. `session` must be a system session: the tenant is not known yet."""
    user = session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None:
        verify_password(password, _DUMMY_HASH)
        raise Unauthenticated("Invalid email or password", code="INVALID_CREDENTIALS")
    if not verify_password(password, user.password_hash) or not user.is_active:
        raise Unauthenticated("Invalid email or password", code="INVALID_CREDENTIALS")
    user.last_login_at = utcnow()
    tenant = session.get(Tenant, user.tenant_id)
    assert tenant is not None
    return user, tenant


def token_for(*, user: User, key: str, lifetime: timedelta) -> str:
    claims = TokenClaims(
        user_id=user.id, tenant_id=user.tenant_id, role=user.role, email=user.email
    )
    return issue_token(claims=claims, key=key, lifetime=lifetime)


@dataclass(frozen=True, kw_only=True)
class Login:
    user: User
    token: str


def log_in(
    database: Database, *, email: str, password: str, key: str, lifetime: timedelta
) -> Login:
    """A login by email and password in its own system unit of work (the login time is
    recorded and committed): the user and a token signed with `key`, valid for `lifetime`.
    Raises Unauthenticated for an unknown email, a wrong password or an inactive user."""
    with database.system_session() as session:
        user, _tenant = authenticate(session, email=email, password=password)
        return Login(user=user, token=token_for(user=user, key=key, lifetime=lifetime))


def principal_for_user(session: Session, *, user_id: int, tenant_id: int) -> Principal:
    """Re-reads the user so a deactivated user or changed role takes effect at once."""
    # Columns, not entities: this runs on every request, and loading two ORM objects costs
    # more than the rest of a cached answer.
    row = session.execute(
        sa.select(User.is_active, User.role, User.email, Tenant.slug)
        .join(Tenant, Tenant.id == User.tenant_id)
        .where(User.id == user_id, User.tenant_id == tenant_id)
        .execution_options(skip_tenant_scope=True)
    ).first()
    if row is None or not row.is_active:
        raise Forbidden("Invalid or expired token", code="INVALID_TOKEN")
    return Principal(
        tenant_id=tenant_id,
        tenant_slug=row.slug,
        role=Role(row.role),
        user_id=user_id,
        email=row.email,
    )


# Who may make a fresh prediction: it spends the tenant's quotas and LLM budget and writes.
SCORER = Role.ANALYST


def require_scorer(principal: Principal, fresh: int = 1) -> None:
    """Forbidden unless the caller may make `fresh` new predictions: analysts and admins
    score; a viewer reads the stored predictions (a cached answer costs nothing)."""
    if fresh > 0 and not principal.can(SCORER):
        raise Forbidden(
            "A fresh prediction needs the 'analyst' role (it spends the tenant's quotas); "
            f"you have '{principal.role.value}' and may read the stored predictions",
            code="FORBIDDEN",
        )


def create_api_key(
    session: Session,
    *,
    tenant: Tenant,
    name: str,
    role: Role,
    created_by: int | None = None,
    expires_in_days: int = DEFAULT_KEY_DAYS,
) -> tuple[ApiKey, str]:
    """Returns the stored key and the full secret, which is never retrievable again. The key
    stops working after `expires_in_days`, and as soon as the user who created it is
    deactivated."""
    if not name.strip():
        raise InvalidInput("An API key needs a name", details={"field": "name"})
    if not 1 <= expires_in_days <= MAX_KEY_DAYS:
        raise InvalidInput(
            f"expiresInDays must be between 1 and {MAX_KEY_DAYS}",
            details={"field": "expiresInDays"},
        )
    secret, prefix = generate_api_key()
    key = ApiKey(
        tenant_id=tenant.id,
        name=name.strip(),
        prefix=prefix,
        key_hash=hash_api_key(secret),
        role=role.value,
        created_by_user_id=created_by,
        expires_at=utcnow() + timedelta(days=expires_in_days),
    )
    session.add(key)
    session.flush()
    return key, secret


def principal_for_api_key(session: Session, *, secret: str) -> Principal:
    """The key's principal; refused when the key is unknown, revoked, expired, or its creator
    has been deactivated (a key must not outlive the person who answers for it)."""
    prefix = secret.split(".", 1)[0]
    row = session.execute(
        sa.select(ApiKey, Tenant, User.is_active)
        .join(Tenant, Tenant.id == ApiKey.tenant_id)
        .outerjoin(User, User.id == ApiKey.created_by_user_id)
        .where(ApiKey.prefix == prefix)
        .execution_options(skip_tenant_scope=True)
    ).first()
    if row is None or row[0].revoked_at is not None or not api_key_matches(secret, row[0].key_hash):
        raise Forbidden("Invalid or expired token", code="INVALID_TOKEN")
    key, tenant, creator_active = row
    now = utcnow()
    if key.expires_at is not None and key.expires_at <= now:
        raise Forbidden("Invalid or expired token", code="INVALID_TOKEN")
    if key.created_by_user_id is not None and creator_active is False:
        raise Forbidden("Invalid or expired token", code="INVALID_TOKEN")
    # Recorded to the minute: a write on every authenticated read would make reads take
    # the database's write lock.
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        key.last_used_at = now
    return Principal(
        tenant_id=tenant.id, tenant_slug=tenant.slug, role=Role(key.role), api_key_id=key.id
    )


def list_api_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(sa.select(ApiKey).order_by(ApiKey.id)))


def revoke_api_key(session: Session, *, key_id: int) -> ApiKey:
    key = session.scalar(sa.select(ApiKey).where(ApiKey.id == key_id))
    if key is None:
        raise NotFound("API key not found", details={"id": key_id})
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        credentials_changed()
    return key
