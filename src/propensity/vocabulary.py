"""The words every layer shares: what is predicted, and for which population of entities.

One home for both, below every domain package, so that features, modeling, registry,
predictions, serving and the surfaces all speak of the same things by the same names.
"""

from __future__ import annotations

from enum import StrEnum

from propensity.errors import InvalidInput


class Population(StrEnum):
    """The kind of entity a model is trained on and serves."""

    ACCOUNT = "account"  # B2B customers
    SUBSCRIBER = "subscriber"  # B2C customers
    LEAD = "lead"

    @property
    def is_customer(self) -> bool:
        return self is not Population.LEAD


class PredictionType(StrEnum):
    CHURN = "CHURN"
    HEALTH_TREND = "HEALTH_TREND"
    CONVERSION = "CONVERSION"
    TIME_TO_CLOSE = "TIME_TO_CLOSE"
    # Derived from CONVERSION; never trained on their own.
    SCORE = "SCORE"
    PRIORITY = "PRIORITY"

    @property
    def trainable(self) -> bool:
        return self not in DERIVED

    @property
    def source(self) -> PredictionType:
        """The trained type a prediction of this type is made from (itself when trained)."""
        return PredictionType.CONVERSION if self in DERIVED else self

    @property
    def on_leads(self) -> bool:
        return self in LEAD_TYPES

    @classmethod
    def parse(cls, value: str) -> PredictionType:
        try:
            return cls(value.strip().upper())
        except ValueError:
            choices = ", ".join(p.value for p in cls)
            raise InvalidInput(
                f"Unknown prediction type {value!r}; expected one of {choices}.",
                code="INVALID_PREDICTION_TYPE",
            ) from None


DERIVED = frozenset({PredictionType.SCORE, PredictionType.PRIORITY})
TRAINABLE = (
    PredictionType.CHURN,
    PredictionType.CONVERSION,
    PredictionType.TIME_TO_CLOSE,
    PredictionType.HEALTH_TREND,
)
LEAD_TYPES = frozenset(
    {
        PredictionType.CONVERSION,
        PredictionType.TIME_TO_CLOSE,
        PredictionType.SCORE,
        PredictionType.PRIORITY,
    }
)
ACCOUNT_TYPES = (PredictionType.CHURN, PredictionType.HEALTH_TREND)


def parse_trainable(value: str) -> PredictionType:
    candidate = value.strip().upper()
    for trainable in TRAINABLE:
        if trainable.value == candidate:
            return trainable
    choices = ", ".join(t.value for t in TRAINABLE)
    raise InvalidInput(
        f"Cannot train '{value}': trainable types are {choices} "
        "(SCORE and PRIORITY derive from CONVERSION)",
        code="INVALID_PREDICTION_TYPE",
    )


def population_of(prediction_type: PredictionType, kind: str | None) -> str:
    """The population a model of this type serves; `kind` chooses between accounts and
    subscribers for CHURN (subscribers when not given)."""
    if prediction_type.on_leads:
        return Population.LEAD.value
    if prediction_type is PredictionType.HEALTH_TREND:
        return Population.ACCOUNT.value
    return kind or Population.SUBSCRIBER.value
