"""The document's path and query values (a lead id, a configuration id, a prediction type
and a tier, each found or parsed with the document's 400 and 404), and its way around a
missing model (`ruleBasedOnly`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from propensity.crm.lead_configs import find_config
from propensity.crm.lookup import find_lead, parse_id
from propensity.db import Session
from propensity.errors import InvalidInput, NotFound, Unavailable
from propensity.models import Lead, LeadScoringConfig
from propensity.predictions.lead_scores import TIERS
from propensity.vocabulary import PredictionType

# In the document's order.
DOCUMENTED_TYPES = tuple(
    t.value
    for t in (
        PredictionType.CONVERSION,
        PredictionType.TIME_TO_CLOSE,
        PredictionType.SCORE,
        PredictionType.PRIORITY,
    )
)


def _parse(raw_id: str, *, key: str, noun: str) -> int:
    value = parse_id(raw_id)
    if value is None:
        raise InvalidInput(
            f"Invalid {noun} ID",
            code="BAD_REQUEST",
            details={key: raw_id, "hint": f"A {noun} ID is a positive integer"},
        )
    return value


def get_lead(session: Session, raw_id: str) -> Lead:
    lead_id = _parse(raw_id, key="leadId", noun="lead")
    lead = find_lead(session, lead_id=lead_id)
    if lead is None:
        raise NotFound("Lead not found", code="NOT_FOUND", details={"leadId": lead_id})
    return lead


def get_config(session: Session, raw_id: str) -> LeadScoringConfig:
    config_id = _parse(raw_id, key="configId", noun="configuration")
    config = find_config(session, config_id=config_id)
    if config is None:
        raise NotFound(
            "Lead scoring configuration not found",
            code="NOT_FOUND",
            details={"configId": config_id},
        )
    return config


def parse_type(value: str | None) -> PredictionType:
    text = (value or PredictionType.CONVERSION.value).strip().upper()
    if text not in DOCUMENTED_TYPES:
        raise InvalidInput(
            f"Invalid prediction type '{value}'",
            code="BAD_REQUEST",
            details={"allowed": list(DOCUMENTED_TYPES)},
        )
    return PredictionType(text)


def parse_tier(value: str | None) -> str:
    text = (value or "").strip().lower()
    if text not in TIERS:
        raise InvalidInput(
            f"Invalid tier value '{value}'",
            code="BAD_REQUEST",
            details={"allowed": list(TIERS)},
        )
    return text


@contextmanager
def rules_offered() -> Iterator[None]:
    """The core's 503 MODEL_UNAVAILABLE, with this document's way around it in its hint."""
    try:
        yield
    except Unavailable as exc:
        if exc.code != "MODEL_UNAVAILABLE":
            raise
        hint = (
            f"{exc.details.get('hint')}, or ask for the rule-based score with ruleBasedOnly: true"
        )
        raise Unavailable(
            exc.message, code=exc.code, details={**exc.details, "hint": hint}
        ) from exc
