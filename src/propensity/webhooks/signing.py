"""Webhook signatures: HMAC-SHA256 over "<unix time>.<body>" with the subscription's secret.

    X-Propensity-Signature: t=1763840000,v1=5f2c...e9 (hex)

A receiver recomputes the HMAC over the timestamp it was given, a dot and the raw body bytes,
compares in constant time, and rejects a timestamp too far from its clock (replays). The
timestamp is signed with the body, so it cannot be moved without breaking the signature.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "X-Propensity-Signature"
EVENT_ID_HEADER = "X-Propensity-Event-Id"
EVENT_TYPE_HEADER = "X-Propensity-Event"
ATTEMPT_HEADER = "X-Propensity-Delivery-Attempt"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a marker, not a secret
DEFAULT_TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={signature(secret, t, body)}"


def verify(
    secret: str,
    header: str,
    body: bytes,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """What a receiver does (the tests' receiver uses it): True when some v1 signature in the
    header matches and its timestamp is within the tolerance."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
