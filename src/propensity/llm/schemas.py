"""Each task's answer as a JSON schema (strict: every field required, no others; lengths are
checked in grounding.py, since strict servers refuse length keywords), and the
instructions that go with it. The answer holds words only; every figure and category in the
response comes from the computed prediction."""

from __future__ import annotations

from typing import Any

TEXT = {"type": "string"}
SHORT_TEXT = {"type": "string"}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


_RECOMMENDATIONS = {
    "type": "array",
    "items": _object({"action": SHORT_TEXT, "rationale": SHORT_TEXT}),
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "churn": _object(
        {
            "explanation": TEXT,
            "primaryChurnDrivers": {
                "type": "array",
                "items": _object({"feature": SHORT_TEXT, "text": SHORT_TEXT}),
            },
            "recommendations": _RECOMMENDATIONS,
        }
    ),
    "health": _object({"explanation": TEXT, "recommendations": _RECOMMENDATIONS}),
    "lead": _object({"explanation": TEXT, "recommendations": _RECOMMENDATIONS}),
    "ranked": _object(
        {
            "leads": {
                "type": "array",
                "items": _object({"leadId": {"type": "integer"}, "reasoning": SHORT_TEXT}),
            },
            "summary": TEXT,
        }
    ),
}

_COMMON = """You put a machine-learning prediction into words for a customer-success or sales \
team. The user message is JSON with the computed facts. Rules:
- Use only the facts given. Never state a probability, score, category, count, date or any \
other number that does not appear in the facts; copy numbers as they appear (a probability \
such as 0.72 may be written as 72%). Do not estimate or calculate new figures.
- "contributions" are the model's exact explanation: effect "risk" pushes towards the bad \
outcome, "strength" away from it; "description" states the entity's real value.
- Recommendations: write one entry for every item of "candidateRecommendations", with its \
"action" copied exactly and a one-sentence "rationale" grounded in the contributions. Add no \
other action.
- Answer with JSON only, matching the schema; plain, specific, professional English."""

_TASKS = {
    "churn": """- "explanation": 2 to 4 sentences on why the account is at the given churn \
risk, naming the strongest contributions.
- "primaryChurnDrivers": up to 3 entries, strongest first, for contributions with effect \
"risk"; "feature" copied exactly from the contribution, "text" a short phrase with its value.""",
    "health": """- "explanation": 2 to 4 sentences on the forecast health score and its \
trajectory, naming the strongest contributions and the context facts.""",
    "lead": """- "explanation": 2 to 4 sentences on the lead's conversion likelihood, naming \
the strongest contributions.""",
    "ranked": """- "leads": one entry per lead in "leads", with its "leadId", and "reasoning": \
one short line on why it ranks where it does, from that lead's own factors.
- "summary": 1 to 3 sentences on what the top-ranked leads have in common (use \
"commonPatterns" and the prediction figures).""",
}


def system_prompt(task: str) -> str:
    return f"{_COMMON}\n{_TASKS[task]}"
