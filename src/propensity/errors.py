"""Typed core errors. Services raise these; each API surface renders them in its own envelope."""

from __future__ import annotations

from typing import Any


class PropensityError(Exception):
    status_code = 500
    code = "INTERNAL_ERROR"

    def __init__(
        self, message: str, *, details: dict[str, Any] | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code is not None:
            self.code = code


class InvalidInput(PropensityError):
    status_code = 400
    code = "BAD_REQUEST"


class Unauthenticated(PropensityError):
    status_code = 401
    code = "UNAUTHORIZED"


class Forbidden(PropensityError):
    status_code = 403
    code = "FORBIDDEN"


class NotFound(PropensityError):
    status_code = 404
    code = "NOT_FOUND"


class Conflict(PropensityError):
    status_code = 409
    code = "CONFLICT"


class InsufficientData(PropensityError):
    """Too few labelled examples to train or score honestly: a state, not a crash."""

    status_code = 422
    code = "INSUFFICIENT_DATA"


class RateLimited(PropensityError):
    status_code = 429
    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: int, details: dict[str, Any] | None = None):
        super().__init__(message, details=details)
        self.retry_after = retry_after


class Unavailable(PropensityError):
    status_code = 503
    code = "UNAVAILABLE"


class Busy(Unavailable):
    """Overloaded now (no connection, worker or write lock came free in time): retry soon."""

    code = "SERVER_BUSY"

    def __init__(
        self, message: str, *, retry_after: int = 1, details: dict[str, Any] | None = None
    ):
        super().__init__(message, details=details)
        self.retry_after = retry_after
