"""spec/churn-kpi.md under /api/kpi/churn."""
