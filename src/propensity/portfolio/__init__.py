"""Portfolio history: daily snapshots of the churn portfolio's scores, for trend charts."""
