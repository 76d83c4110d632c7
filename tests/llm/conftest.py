"""Fixtures for the LLM tests: a running test LLM server and settings that point at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.llm.server import LlmServer, running


@pytest.fixture
def llm_server() -> Iterator[LlmServer]:
    with running() as server:
        yield server
