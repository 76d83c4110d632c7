"""Checks shared by the contract tests: the llmMetadata of a template-worded answer, and the
null values of an answer against the few its document allows."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

LLM_METADATA_KEYS = {"model", "tokensUsed", "latencyMs", "estimatedCost"}


def assert_template_metadata(metadata: Any, *, reason: str | None = None) -> None:
    """What an answer reports when the templates, not an LLM, wrote its text: an object with
    the document's keys and their types, no model call (0 tokens, 0 cost) and why."""
    assert isinstance(metadata, dict), metadata
    assert set(metadata) >= LLM_METADATA_KEYS
    assert metadata["model"] == "template" and metadata["textSource"] == "template"
    assert metadata["tokensUsed"] == 0 and metadata["estimatedCost"] == 0
    assert isinstance(metadata["latencyMs"], int) and metadata["latencyMs"] >= 0
    assert isinstance(metadata["fallbackReason"], str) and metadata["fallbackReason"]
    if reason is not None:
        assert reason in metadata["fallbackReason"], metadata["fallbackReason"]


def null_paths(body: Any, path: str = "") -> list[str]:
    """Every path in `body` whose value is null: keys joined by '.', list items as [i]."""
    if body is None:
        return [path]
    if isinstance(body, dict):
        return [p for k, v in body.items() for p in null_paths(v, f"{path}.{k}")]
    if isinstance(body, list):
        return [p for i, v in enumerate(body) for p in null_paths(v, f"{path}[{i}]")]
    return []


def unexpected_nulls(body: Any, allowed: Iterable[str] = ()) -> list[str]:
    """null_paths of `body` not matched by any of the `allowed` patterns (regular
    expressions over the path with list indexes written as [i]: `\\.rankings\\[i\\]\\.company`)."""
    patterns = [re.compile(p) for p in allowed]
    return [
        p
        for p in null_paths(body)
        if not any(pattern.fullmatch(re.sub(r"\[\d+\]", "[i]", p)) for pattern in patterns)
    ]
