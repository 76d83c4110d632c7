"""The LLM's wording of a ranked-leads answer (ADR 0011). A ranking is not stored with a
prediction, so its wording is kept in-process: identical rankings (same tenant, model and
facts: leads, figures, template reasoning) reuse it without another call."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from datetime import datetime
from threading import Lock
from typing import Any

from sqlalchemy.orm import Session

from propensity.crm.writer import session_tenant
from propensity.llm.config import LlmConfig
from propensity.llm.facts import Facts
from propensity.llm.service import word

_RANKED: OrderedDict[tuple[int, str, str], dict[str, Any]] = OrderedDict()
_RANKED_LOCK = Lock()
MAX_RANKED_CACHE = 256


def ranking_wording(
    session: Session, *, config: LlmConfig, facts: Facts, now: datetime
) -> tuple[dict[str, Any], bool]:
    """The outcome ({"answer", "metadata"}) of wording these ranking facts, and whether it was
    reused (True) or a new call's (False, the day's LLM usage committed). Only outcomes that
    used the LLM are kept for reuse; a failure is tried again next time."""
    key = (
        session_tenant(session),
        config.model,
        hashlib.sha256(facts.to_json().encode()).hexdigest(),
    )
    with _RANKED_LOCK:
        cached = _RANKED.get(key)
    if cached is not None:
        return cached, True
    worded = word(session, config=config, facts=facts, now=now)
    session.commit()
    entry = {"answer": worded.answer, "metadata": worded.metadata}
    if worded.used:
        with _RANKED_LOCK:
            _RANKED[key] = entry
            while len(_RANKED) > MAX_RANKED_CACHE:
                _RANKED.popitem(last=False)
    return entry, False
