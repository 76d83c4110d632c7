"""spec/lead-ml.md at `/api/lead-scoring`: lead conversion, time to close, score, ranking and
tiers over the core's models. Text comes from the narrative templates over computed facts
(no LLM writes it, so `llmMetadata` is null); the rules this surface adds are documented in
`rules.py` (rule-based scorer), `priority.py` (score breakdown, priority, tiers, caps) and
docs/adr/0007-lead-ml-semantics.md."""
