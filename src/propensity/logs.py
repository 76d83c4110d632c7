"""Structured logging. Events carry ids and counts, never credentials or request bodies."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_SECRET_KEYS = {"password", "token", "secret", "api_key", "authorization", "key", "secret_key"}


def _drop_secrets(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in list(event):
        if key.lower() in _SECRET_KEYS:
            event[key] = "[redacted]"
    return event


# Credentials by their shape, wherever they appear in text (an exception's message, a
# traceback): API keys, webhook signing secrets, JWTs, and "Bearer ..." headers.
_SECRET_PATTERNS = re.compile(
    r"pk_[0-9a-f]{12}\.[A-Za-z0-9_-]+"
    r"|whsec_[A-Za-z0-9_-]+"
    r"|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/=-]+"
)


def redact_text(text: str) -> str:
    return _SECRET_PATTERNS.sub("[redacted]", text)


def _redact_text_fields(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        if isinstance(value, str):
            event[key] = redact_text(value)
    return event


def _stderr_logger(*_args: Any) -> structlog.PrintLogger:
    # Resolve sys.stderr on each use: a stream captured at configure time may be closed
    # later (test runners swap it), and logging must never fail a request.
    return structlog.PrintLogger(file=sys.stderr)


def configure_logging(*, level: str = "INFO", json: bool = False) -> None:
    # Tracebacks are rendered to text here, without local variables (a request's locals hold
    # keys, passwords and webhook secrets), then redacted like every other field.
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _drop_secrets,
            _redact_text_fields,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(
        level=level.upper(), stream=sys.stderr, format="%(levelname)s %(name)s %(message)s"
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
