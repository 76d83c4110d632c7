"""spec/churn-kpi.md under `/api/kpi/churn` (endpoints arrive with the churn surfaces)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/kpi/churn", tags=["churn-kpi"])
