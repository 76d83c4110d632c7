"""spec/customer-success-ml.md under `/api/crm/accounts`: churn and health predictions for B2B
accounts, CTAs generated from them, and their validation against what really happened.

Every number comes from the tenant's accounts and its active CHURN / HEALTH_TREND account
models. Text comes from templates over computed facts; with an LLM configured it words the
same facts (llm_text.py, ADR 0011) and `llmMetadata` says so, else `llmMetadata` is null.
"""
