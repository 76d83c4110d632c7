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


class ChurnCohorts(BaseModel):
    cohorts: list[CohortData]
    lastUpdate: str


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
