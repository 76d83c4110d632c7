"""spec/customer-success-ml.md under `/api/crm/accounts`: churn and health predictions for B2B
accounts, CTAs generated from them, and their validation against what really happened.

Every number comes from the tenant's accounts and the CHURN / HEALTH_TREND account models
serving them (propensity.serving: the active model, or its challenger during a deployment);
the core owns every query and commit, this package only maps the document. Text comes from
templates over computed facts; with an LLM configured it words the same facts (llm_text.py,
ADR 0011) and `llmMetadata` says so; without one `llmMetadata` reports the templates'
text (llm.stored.template_outcome).
"""
