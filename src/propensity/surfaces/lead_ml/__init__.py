"""spec/lead-ml.md at `/api/lead-scoring`: lead conversion, time to close, score, ranking and
tiers over the core's models, served by propensity.serving (serving/leads.py and
serving/lead_ranking.py for the lead types). Text comes from the narrative templates over
computed facts; with an LLM configured it words the same facts (llm_text.py, ADR 0011;
`llmMetadata` says so, and reports the templates' text otherwise). The documented rules are
in the core:
predictions/lead_rules.py (rule-based scorer), predictions/lead_scores.py (score breakdown,
priority, tiers, caps) and docs/adr/0007-lead-ml-semantics.md."""
