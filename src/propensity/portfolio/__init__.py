"""Churn portfolios: the subscribers' (risk rules, current reads, on-request sample scoring,
daily snapshots and back-filled history) and the accounts' (accounts.py)."""
