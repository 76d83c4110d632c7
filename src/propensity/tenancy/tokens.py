"""Signed access tokens (JWT, HS256) carrying user, tenant and role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from propensity.errors import Forbidden

ALGORITHM = "HS256"


@dataclass(frozen=True, kw_only=True)
class TokenClaims:
    user_id: int
    tenant_id: int
    role: str
    email: str


def issue_token(
    *, claims: TokenClaims, key: str, lifetime: timedelta, now: datetime | None = None
) -> str:
    issued = now or datetime.now(UTC)
    payload = {
        "sub": str(claims.user_id),
        "tid": claims.tenant_id,
        "role": claims.role,
        "email": claims.email,
        "iat": int(issued.timestamp()),
        "exp": int((issued + lifetime).timestamp()),
        "typ": "access",
    }
    return jwt.encode(payload, key, algorithm=ALGORITHM)


def read_token(token: str, *, key: str) -> TokenClaims:
    """Verifies signature and expiry; any failure is the documented 'Invalid or expired token'."""
    try:
        payload = jwt.decode(
            token, key, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "tid"]}
        )
        return TokenClaims(
            user_id=int(payload["sub"]),
            tenant_id=int(payload["tid"]),
            role=str(payload["role"]),
            email=str(payload.get("email", "")),
        )
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
        raise Forbidden("Invalid or expired token", code="INVALID_TOKEN") from exc
