# ruff: noqa: N815 - field names are the document's camelCase, verbatim.
"""Response bodies of spec/churn-kpi.md, field for field."""

from __future__ import annotations

from pydantic import BaseModel


class ChurnSummary(BaseModel):
    atRiskCount: int
    totalCustomers: int
    atRiskPercentage: float
    averageRiskScore: float
    totalLTVAtRisk: float
    modelConfidence: float
    lastUpdate: str
    modelVersion: str


class CohortData(BaseModel):
    cohort: str
    customerCount: int
    atRiskCount: int
    atRiskPercentage: float
    averageRiskScore: float
    ltvAtRisk: float
    # Propensity's addition (the dashboard client's): mean risk score of the at-risk ones.
    averageRiskScoreAtRisk: float


class ChurnCohorts(BaseModel):
    cohorts: list[CohortData]
    lastUpdate: str


class TrainingStats(BaseModel):
    trainSamples: int
    testSamples: int
    featureCount: int


class ChurnMetrics(BaseModel):
    modelType: str
    modelVersion: str
    aucScore: float
    accuracy: float
    precision: float
    recall: float
    f1Score: float
    optimalThreshold: float
    trainingDate: str
    trainingSamples: int
    testSamples: int
    featureCount: int
    status: str
    isProduction: bool
    # Additions the dashboard client reads (rleung19/ai-demo's churn-api.ts).
    modelId: str
    modelName: str
    modelConfidence: float
    lastUpdate: str
    trainingStats: TrainingStats


class RiskTrendPoint(BaseModel):
    date: str
    averageRiskScore: float
    atRiskCount: int
    totalCustomers: int


class CohortDistributionPoint(BaseModel):
    date: str
    cohorts: dict[str, int]


class ChurnChartData(BaseModel):
    riskScoreTrend: list[RiskTrendPoint]
    cohortDistribution: list[CohortDistributionPoint]
    period: str
    lastUpdate: str | None


class DistributionPoint(BaseModel):
    riskRange: str
    customerCount: int
    atRiskCount: int


class ChurnDistribution(BaseModel):
    """chart-data?type=distribution (the dashboard client's form)."""

    chartType: str
    data: list[DistributionPoint]
    lastUpdate: str


class ChurnRiskFactor(BaseModel):
    riskFactor: str
    impactScore: str
    affectedCustomers: int
    primarySegment: str
    feature: str
    averageContribution: float


class ChurnRiskFactors(BaseModel):
    riskFactors: list[ChurnRiskFactor]
    lastUpdate: str


class CohortUser(BaseModel):
    userId: str
    churnProbability: float
    ltv: float
    atRisk: bool


class ChurnCohortDetail(BaseModel):
    cohort: str
    totalCount: int
    users: list[CohortUser]
    sort: str
    atRiskOnly: bool
    lastUpdate: str
