"""spec/lead-ml.md at `/api/lead-scoring`: lead conversion, time to close, score, ranking and
tiers over the core's models. Text comes from the narrative templates over computed facts;
with an LLM configured it words the same facts (llm_text.py, ADR 0011; `llmMetadata` says
so, null otherwise). The rules this surface adds are documented in
`rules.py` (rule-based scorer), `priority.py` (score breakdown, priority, tiers, caps) and
docs/adr/0007-lead-ml-semantics.md."""
