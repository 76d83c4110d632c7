"""API key changes as units of work of their own, committed, for callers that never touch
the transaction (the dashboard's pages). The rules are tenancy.service's, which the REST
API calls too: a key is stored hashed and its secret is returned once."""

from __future__ import annotations

from sqlalchemy.orm import Session

from propensity.db import committing
from propensity.models import ApiKey, Role
from propensity.tenancy.service import create_api_key, get_tenant, revoke_api_key


def issue_api_key(
    session: Session, *, tenant_id: int, name: str, role: Role, created_by: int | None
) -> tuple[ApiKey, str]:
    """The stored key and its full secret, which is never retrievable again."""
    tenant = get_tenant(session, slug_or_id=tenant_id)
    key, secret = create_api_key(
        session, tenant=tenant, name=name, role=role, created_by=created_by
    )
    session.commit()
    return key, secret


# Revokes a key of the session's tenant (NotFound otherwise); revoking twice is a no-op.
revoke_api_key_committed = committing(revoke_api_key)
