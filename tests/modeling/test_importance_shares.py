"""Importance shares are stored rounded, yet still add up to 1 and keep their order."""

from __future__ import annotations

import random

from propensity.modeling.importance import rounded_shares


def test_rounded_shares_keep_their_sum_and_order() -> None:
    rng = random.Random(7)
    raw = sorted((rng.random() for _ in range(97)), reverse=True)
    shares = [value / sum(raw) for value in raw]
    # Rounding each share alone misses 1 by several units of the last digit here.
    assert round(sum(round(s, 4) for s in shares), 6) != 1.0
    rounded = rounded_shares(shares, digits=4)
    assert round(sum(rounded), 6) == 1.0
    assert rounded == sorted(rounded, reverse=True)
    assert all(abs(r - s) < 1e-4 for r, s in zip(rounded, shares, strict=True))
    assert [round(r, 4) for r in rounded] == rounded


def test_rounded_shares_of_nothing_and_of_exact_values() -> None:
    assert rounded_shares([], digits=4) == []
    assert rounded_shares([0.5, 0.25, 0.25], digits=4) == [0.5, 0.25, 0.25]
