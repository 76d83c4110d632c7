from __future__ import annotations

import math

import pytest

from propensity.predictions.waterfall import CALIBRATION, OTHER, probability_waterfall


def test_steps_add_up_to_the_served_probability_and_keep_their_signs() -> None:
    contributions = {
        "space": "log_odds",
        "bias": -2.0,
        "raw": -0.5,
        "features": {"logins": -0.7, "tickets": 1.6, "renewal": 0.9},
    }
    waterfall = probability_waterfall(contributions, 0.31)
    assert waterfall is not None
    assert waterfall.total == pytest.approx(0.31, abs=1e-12)
    labels = [s.label for s in waterfall.steps]
    assert labels[:3] == ["tickets", "renewal", "logins"]  # by impact
    assert OTHER in labels and labels[-1] == CALIBRATION
    for step in waterfall.steps[:3]:
        assert math.copysign(1, step.delta) == math.copysign(1, step.contribution)
    assert waterfall.base == pytest.approx(1 / (1 + math.exp(2.0)))


def test_no_waterfall_without_a_log_odds_explanation() -> None:
    assert probability_waterfall({}, 0.2) is None
    assert probability_waterfall({"space": "target", "bias": 1.0}, 0.2) is None
