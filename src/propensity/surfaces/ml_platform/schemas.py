"""The request bodies of `/api/ml`, in the document's field names (shown at /docs).

Types are strict (no "5" for 5, no true for 1), except the configuration's, which is the
configuration model itself (propensity.mlconfig) and converts as it always has: each endpoint
accepts exactly the values it accepted when it read the JSON by hand. A body of the wrong
shape is the surface's 400 VALIDATION_ERROR naming the field (surfaces/envelopes.py), never
FastAPI's 422. What the types cannot say (ranges that depend on the tenant's configuration,
the allowed words of a text field, one field's meaning depending on another) is checked by
each endpoint, with the same errors. Fields the document's examples send but that have no
effect here are accepted with any value and named back in `notApplied`."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
)
from pydantic.alias_generators import to_camel

from propensity.mlconfig import MlConfig

MAX_NAME = 200
MAX_TEXT = 2000

LeadIds = Annotated[
    list[Annotated[StrictInt, Field(gt=0)]],
    Field(min_length=1, description="Positive lead ids, at most scoring.maxBatchSize of them"),
]
Name = Annotated[StrictStr, Field(max_length=MAX_NAME)]
Text = Annotated[StrictStr, Field(max_length=MAX_TEXT)]
Period = Annotated[StrictStr, Field(description="A length such as 30m, 24h or 7d (at most 90d)")]
NotApplied = Annotated[JsonValue, Field(description="Accepted without effect: see notApplied")]


class RequestBody(BaseModel):
    """camelCase on the wire, as the document spells it; unknown fields are ignored."""

    model_config = ConfigDict(alias_generator=to_camel, extra="ignore")


class BatchScoreRequest(RequestBody):
    lead_ids: LeadIds
    model: StrictStr | StrictInt | None = Field(
        default=None, description="The active CONVERSION model's id or vN (default: it)"
    )
    priority: StrictStr | None = Field(default=None, description="low, normal (default) or high")


class ConversionRequest(RequestBody):
    lead_ids: LeadIds
    timeframe: StrictStr | None = Field(default=None, description="1d to 365d (default 30d)")
    include_factors: StrictBool = False


class ConfigUpdate(MlConfig):
    """Any part of the configuration: what is sent is merged into the current one. GET's
    read-only parts may be sent back unchanged (a GET-modify-PUT round trip)."""

    activeModel: JsonValue = None  # noqa: N815 - the document's field names
    activeModelVersion: JsonValue = None  # noqa: N815
    fallbackModel: JsonValue = None  # noqa: N815


class Target(RequestBody):
    prediction_type: StrictStr | None = Field(
        default=None,
        description="Which prediction type (regression: HEALTH_TREND or TIME_TO_CLOSE)",
    )
    kind: StrictStr | None = Field(
        default=None, description="classification (churn) only: account or subscriber"
    )


class TrainingConfig(RequestBody):
    validation_split: StrictFloat | None = Field(
        default=None, description="Held-out fraction, 0.1 to 0.4"
    )
    data_source: NotApplied = None
    early_stopping: NotApplied = None
    patience: NotApplied = None


class CreateModelRequest(RequestBody):
    name: Name | None = None
    description: Text | None = None
    type: StrictStr = Field(description="scoring, classification or regression")
    algorithm: StrictStr | None = Field(
        default=None, description="auto (default), xgboost, logistic_regression, ridge or blend"
    )
    hyperparameters: dict[str, Any] | None = Field(
        default=None, description="maxDepth, learningRate, ... (training.hyperparameters)"
    )
    training_config: TrainingConfig | None = None
    target: Target | None = None


class StatusRequest(RequestBody):
    status: StrictStr = Field(description="active, inactive or retired")
    reason: Text | None = None


class RetrainRequest(RequestBody):
    reason: Text | None = None
    # Checked with the other training choices, whose errors name it trainingConfig's.
    validation_split: JsonValue = Field(
        default=None,
        description="Held-out fraction, 0.1 to 0.4 (default: the model's own)",
        json_schema_extra={"type": "number"},
    )
    priority: NotApplied = None
    data_source: NotApplied = None
    hyperparameter_tuning: NotApplied = None


class ABTest(RequestBody):
    # Extra fields are kept: an aBTest object with anything in it asks for a test.
    model_config = ConfigDict(alias_generator=to_camel, extra="allow")

    enabled: StrictBool | None = Field(
        default=None, description="Default: true when aBTest has any field"
    )
    traffic_split: StrictFloat | None = Field(
        default=None, description="The challenger's share of entities, between 0 and 1"
    )
    duration: Period | None = None


class RollbackPlan(RequestBody):
    previous_model: StrictStr | StrictInt | None = Field(
        default=None, description="The model active now (its id), as a check"
    )
    monitoring_period: Period | None = None


class DeployRequest(RequestBody):
    validation_results: dict[str, Any] | None = None
    ab_test: ABTest | None = Field(default=None, alias="aBTest")
    rollback_plan: RollbackPlan | None = None


class EvaluateRequest(RequestBody):
    force: StrictBool = Field(default=False, description="Decide now, before the test's end")


class RollbackRequest(RequestBody):
    reason: Text | None = None
