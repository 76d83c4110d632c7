"""The data plane under the five surfaces and the dashboard (DESIGN.md "serving", ADR 0012):
which model serves an entity, whether its stored prediction is still the answer, and scoring
and recording when it is not. Surfaces map their documents to these calls and back."""

from propensity.serving.fresh import ScoringTimedOut
from propensity.serving.routing import (
    CHALLENGER,
    CHAMPION,
    REQUESTED,
    RULES,
    ServingModels,
    serving_models,
    serving_models_or_none,
)
from propensity.serving.service import (
    Served,
    Spend,
    count_answers,
    current,
    find_valid,
    requested_version,
    serve,
    serve_many,
)

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "REQUESTED",
    "RULES",
    "ScoringTimedOut",
    "Served",
    "ServingModels",
    "Spend",
    "count_answers",
    "current",
    "find_valid",
    "requested_version",
    "serve",
    "serve_many",
    "serving_models",
    "serving_models_or_none",
]
