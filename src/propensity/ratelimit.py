"""Request rate limits on top of the `limits` library, as FastAPI dependencies.

Counters live in memory by default (one process), in a SQLite file of their own when several
worker processes of one machine share them (`settings.ratelimit_shared_path`, set by `serve
--workers N` without Redis; ratelimit_store.py), and in Redis when `settings.redis_url` is set,
so API replicas behind a load balancer share them. The limiter is created lazily per
application and kept on `app.state`, so two apps in one process (tests) never share counters.

Usage: `Depends(rate_limit(scope="retainstream", limit="100/15minutes", key=client_ip))`.
A surface can later pass a per-tenant `key` (read from `request.state.principal`, placed
after authentication) and a `limit` read from its settings.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from propensity.errors import RateLimited
from propensity.ratelimit_store import LocalStorage, SharedFileStorage

KeyFunction = Callable[[Request], str]
LimitSource = str | Callable[[Request], str]
REMAINING_HEADER = "X-RateLimit-Remaining"
LIMIT_HEADER = "X-RateLimit-Limit"
# Limits set at run time (tests, an admin tweak) win over the declared ones: {scope: "N/period"}.
OVERRIDES_STATE = "rate_limit_overrides"
DEFAULT_MESSAGE = "Too many requests, please try again later."


@dataclass(frozen=True)
class AppLimiter:
    limiter: FixedWindowRateLimiter
    namespace: str

    def hit(self, item: RateLimitItem, *identifiers: str) -> tuple[bool, int, float]:
        """(allowed, remaining, reset time) after counting one hit."""
        allowed = self.limiter.hit(item, *identifiers)
        stats = self.limiter.get_window_stats(item, *identifiers)
        return allowed, max(0, int(stats.remaining)), stats.reset_time


def client_ip(request: Request) -> str:
    """The peer address. Forwarded headers are not trusted here: behind a proxy, run the
    server with its proxy-headers option so that the peer address is the client's."""
    return request.client.host if request.client else "unknown"


def _storage(redis_url: str | None, shared_path: Path | None) -> Storage:
    if redis_url:
        storage = storage_from_string(redis_url)
        # A synchronous URI (redis://) always gives a synchronous storage.
        assert isinstance(storage, Storage)
        return storage
    if shared_path is not None:
        return SharedFileStorage(shared_path)
    return LocalStorage()


_CREATION = threading.Lock()


def app_limiter(request: Request) -> AppLimiter:
    state = request.app.state
    existing: AppLimiter | None = getattr(state, "rate_limiter", None)
    if existing is not None:
        return existing
    with _CREATION:
        # Concurrent first requests must share one limiter, or their hits go to copies.
        return _create_limiter(state)


def _create_limiter(state: Any) -> AppLimiter:
    existing: AppLimiter | None = getattr(state, "rate_limiter", None)
    if existing is not None:
        return existing
    settings = state.settings
    # Replicas of one deployment share a namespace (and so their Redis counters); a test app
    # gets its own, so counters never leak from one test into the next through Redis.
    namespace = "propensity"
    if settings.environment == "test":
        namespace = f"propensity-{uuid.uuid4().hex[:12]}"
    storage = _storage(settings.redis_url, settings.ratelimit_shared_path)
    created = AppLimiter(FixedWindowRateLimiter(storage), namespace)
    state.rate_limiter = created
    return created


def _resolve_limit(request: Request, scope: str, limit: LimitSource) -> RateLimitItem:
    overrides: dict[str, str] = getattr(request.app.state, OVERRIDES_STATE, None) or {}
    text = overrides.get(scope) or (limit(request) if callable(limit) else limit)
    return parse(text)


def consume(
    request: Request,
    *,
    scope: str,
    limit: LimitSource,
    key: str,
    message: str = DEFAULT_MESSAGE,
    response: Response | None = None,
) -> int:
    """Counts one hit for `key` within `scope` and returns what remains of the window; raises
    RateLimited (429, with Retry-After) once it is used up. For quotas that count only the
    requests that do the costly work (e.g. a fresh prediction, not a cached one)."""
    app = app_limiter(request)
    item = _resolve_limit(request, scope, limit)
    identifiers = (app.namespace, scope, key)
    allowed, remaining, reset_time = app.hit(item, *identifiers)
    request.state.rate_limit_remaining = remaining
    if not allowed:
        retry_after = max(1, int(reset_time - time.time()) + 1)
        raise RateLimited(
            message, retry_after=retry_after, details={"limit": str(item), "scope": scope}
        )
    if response is not None:
        response.headers[REMAINING_HEADER] = str(remaining)
        response.headers[LIMIT_HEADER] = str(item.amount)
    return remaining


def rate_limit(
    *,
    scope: str,
    limit: LimitSource,
    key: KeyFunction = client_ip,
    message: str = DEFAULT_MESSAGE,
    exempt: frozenset[str] = frozenset(),
) -> Callable[[Request, Response], None]:
    """A dependency counting one hit per request for `key(request)` within `scope`, except on
    the `exempt` paths (a load balancer's health probe must never be refused).

    It sets `X-RateLimit-Remaining` (and `X-RateLimit-Limit`) on the response, stores the
    remaining count on `request.state.rate_limit_remaining` for endpoints that build their own
    response, and raises RateLimited (429, with Retry-After) once the window is used up."""

    def check(request: Request, response: Response) -> None:
        if request.url.path in exempt:
            return
        consume(
            request, scope=scope, limit=limit, key=key(request), message=message, response=response
        )

    return check
