"""spec/customer-success-ml.md under `/api/crm/accounts`: churn and health predictions for B2B
accounts, CTAs generated from them, and their validation against what really happened.

Every number comes from the tenant's accounts and its active CHURN / HEALTH_TREND account
models; `llmMetadata` is null because no LLM wrote the text (templates over computed facts).
"""
