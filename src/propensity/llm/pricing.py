"""Estimated cost of a completion from the configured price table (USD per million tokens)."""

from __future__ import annotations

PER_MILLION = 1_000_000


def estimated_cost(
    *,
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
    prices_per_million: dict[str, tuple[float, float]],
) -> float:
    """Input and output tokens at the model's listed prices; 0 for a model not listed (a
    local server costs nothing per token). Rounded to a millionth of a dollar."""
    prices = prices_per_million.get(model)
    if prices is None:
        return 0.0
    input_price, output_price = prices
    cost = (prompt_tokens * input_price + completion_tokens * output_price) / PER_MILLION
    return round(cost, 6)
