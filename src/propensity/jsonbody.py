"""JSON request bodies are checked once before any endpoint reads them: NaN, Infinity and
-Infinity (which Python's parser accepts, and which break the database's JSON functions
once stored) and nesting too deep to parse are refused with 400 in the surface's envelope."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from propensity.crm.formats import reject_constant
from propensity.surfaces.envelopes import error_response, invalid_request

WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers") or ():
        if name == b"content-type":
            kind: str = value.decode("latin-1").split(";", 1)[0].strip().lower()
            return kind == "application/json" or kind.endswith("+json")
    return False


def problem_of(body: bytes) -> str | None:
    """What makes this JSON body unacceptable, or None (invalid JSON is left to the app)."""
    try:
        json.loads(body, parse_constant=reject_constant)
    except RecursionError:
        return "nested too deeply"
    except json.JSONDecodeError:
        return None
    except (ValueError, UnicodeDecodeError) as exc:
        return f"{exc}; send null or a number" if "JSON number" in str(exc) else None
    return None


class JsonBodyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WITH_BODY or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away: nothing to answer.
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = problem_of(body) if body else None
        if problem is not None:
            path = scope["path"]
            message_text = f"Request body is not valid JSON: {problem}"
            err = invalid_request(path, message_text, [{"field": "body", "problem": problem}])
            await error_response(path, err)(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
