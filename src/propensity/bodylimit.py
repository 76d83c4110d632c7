"""Request bodies are bounded before they are read: 413 PAYLOAD_TOO_LARGE, in the surface's
envelope, for a declared Content-Length over the route's limit (nothing is read), and as soon
as a body sent without one (chunked) passes it. Imports take files up to their own limit
(crm/uploads.py); every other route takes JSON of at most `max_body_bytes`."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from propensity.crm.uploads import MAX_UPLOAD_BYTES
from propensity.errors import PropensityError
from propensity.surfaces.envelopes import error_response
from propensity.web.render import error_page
from propensity.web.router import is_page_path

# Routes that take a file: the file's limit plus room for the multipart framing and fields.
UPLOAD_PREFIXES = ("/api/v1/import/", "/data/imports")
UPLOAD_LIMIT = MAX_UPLOAD_BYTES + 1024 * 1024
WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyTooLarge(HTTPException):
    """Raised from the body stream; an HTTPException so the framework passes it through the
    body parsers untouched and the app's handler renders it."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=too_large_message(limit))


def too_large_message(limit: int) -> str:
    size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit:,} bytes"
    return f"The request body is larger than this endpoint accepts ({size}); send less"


def limit_for(path: str, default: int) -> int:
    return UPLOAD_LIMIT if path.startswith(UPLOAD_PREFIXES) else default


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WITH_BODY:
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        limit = limit_for(path, self.max_body_bytes)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, path, limit)(scope, receive, send)
            return
        received = 0

        async def bounded() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded, tracking)
        except BodyTooLarge:
            # Raised where a middleware (not the framework's handlers) read the body.
            if started:
                raise
            await _refuse(scope, path, limit)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            # A malformed length is the server's (h11's) to refuse; count the body instead.
            return int(text) if text.isascii() and text.isdigit() else None
    return None


def _refuse(scope: Scope, path: str, limit: int) -> Response:
    err = PropensityError(too_large_message(limit), code="PAYLOAD_TOO_LARGE")
    err.status_code = 413
    err.details = {"maxBytes": limit}
    if is_page_path(path):
        return error_page(Request(scope), 413, err.message)
    return error_response(path, err)
