"""Optional LLM wording of computed facts (ADR 0011).

The LLM receives a prediction's facts (the prediction, its top contributions with the
entity's real values, the playbook's candidate recommendations) and returns structured text.
It never sets a probability, score or category; an answer that says anything the facts do
not (a driver outside the contributions, a number not in the input, an action that is not a
candidate) is rejected and the templates' text is used instead. Modules:

    config    LlmConfig.from_settings: None unless base URL, model and key are configured
    client    one chat completion with a JSON answer: timeouts, retries with backoff
    facts     the grounded input (Facts) built from what the surfaces computed
    schemas   the JSON schema of each task's answer
    grounding parse and check an answer against its facts
    budget    per-tenant, per-UTC-day tokens and cost (llm_usage table)
    pricing   estimated cost from the configured price table
    service   word(): budget, call, check, record; returns text or the reason it is absent
"""
