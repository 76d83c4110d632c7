"""Response and request bodies of spec/retainstream.md's dashboard, customer, prediction and
model endpoints (field names exactly as the document spells them)."""

from __future__ import annotations

from pydantic import BaseModel, Field

MAX_SAMPLE = 10_000


class SampleRequest(BaseModel):
    sample_size: int = Field(default=100, ge=1, le=MAX_SAMPLE)


class ChurnRateOut(BaseModel):
    current: float
    previous: float
    change: str


class PredictedChurnersOut(BaseModel):
    count: int
    confidence: str
    change: str


class ModelAucOut(BaseModel):
    score: float | None
    status: str
    version: str


class MetricsData(BaseModel):
    churnRate: ChurnRateOut  # noqa: N815 - the document's name
    predictedChurners: PredictedChurnersOut  # noqa: N815
    modelAuc: ModelAucOut  # noqa: N815


class MetricsResponse(BaseModel):
    success: bool = True
    data: MetricsData


class BucketOut(BaseModel):
    bucket: float
    count: int


class DistributionResponse(BaseModel):
    success: bool = True
    data: list[BucketOut]


class FactorOut(BaseModel):
    name: str
    value: float


class FactorsResponse(BaseModel):
    success: bool = True
    data: list[FactorOut]


class ScoringData(BaseModel):
    predictions_generated: int
    average_probability: float | None
    timestamp: str


class PredictRunResponse(BaseModel):
    success: bool = True
    message: str = "Prediction run completed"
    data: ScoringData


class GenerateResponse(BaseModel):
    success: bool = True
    data: ScoringData


class RiskCustomerOut(BaseModel):
    user_id: str
    plan: str | None
    churn_probability: float
    last_activity: str | None
    tenure_months: int | None
    risk_level: str


class PaginationOut(BaseModel):
    page: int
    limit: int
    total: int
    pages: int


class HighRiskData(BaseModel):
    customers: list[RiskCustomerOut]
    pagination: PaginationOut


class HighRiskResponse(BaseModel):
    success: bool = True
    data: HighRiskData


class CustomerOut(BaseModel):
    user_id: str
    email: str | None
    plan: str | None
    watch_time_hours: float | None
    subscription_age_months: int | None
    device_count: int | None
    last_login_days: int | None
    payment_failures: int | None
    tenure_months: int | None
    churn_probability: float | None
    prediction_date: str | None


class CustomerResponse(BaseModel):
    success: bool = True
    data: CustomerOut


class SegmentOut(BaseModel):
    segment: str
    count: int


class SegmentsData(BaseModel):
    segments: list[SegmentOut]


class SegmentsResponse(BaseModel):
    success: bool = True
    data: SegmentsData


class ResultOut(BaseModel):
    customer_id: str
    churn_probability: float
    confidence: float | None
    prediction_date: str | None


class ResultsData(BaseModel):
    predictions: list[ResultOut]
    total: int
    timestamp: str


class ResultsResponse(BaseModel):
    success: bool = True
    data: ResultsData


class PerformanceData(BaseModel):
    auc: float | None
    precision: float | None
    recall: float | None
    f1_score: float | None
    training_samples: int
    model_version: str
    last_trained: str | None


class PerformanceResponse(BaseModel):
    success: bool = True
    data: PerformanceData


class ComparisonOut(BaseModel):
    improved: bool
    previous_auc: float | None
    current_auc: float | None
    improvement: str | None


class StatusData(BaseModel):
    version: str
    algorithm: str
    status: str
    auc_score: float | None
    training_samples: int
    features: int
    last_updated: str | None
    performance: ComparisonOut


class StatusResponse(BaseModel):
    success: bool = True
    data: StatusData


class TrainMetricsOut(BaseModel):
    auc: float | None
    precision: float | None
    recall: float | None
    f1_score: float | None
    training_samples: int


class TrainData(BaseModel):
    message: str = "Model training completed"
    metrics: TrainMetricsOut


class TrainResponse(BaseModel):
    success: bool = True
    data: TrainData


class ImportanceOut(BaseModel):
    name: str
    importance: float


class ImportanceData(BaseModel):
    features: list[ImportanceOut]


class ImportanceResponse(BaseModel):
    success: bool = True
    data: ImportanceData
