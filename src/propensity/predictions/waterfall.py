"""A binary prediction's explanation as steps in probability space that add up exactly to
the probability served (the dashboard's waterfall of drivers).

The stored explanation is exact in the model's log-odds space: raw = bias + Σ contributions
(the top features stored, the rest summed as "other features"), and the probability served is
the calibrator's map of raw. Walking from the bias through each contribution with the logistic
function, in order of impact, gives each feature's step in probability; the calibrator's own
step closes the gap to the served probability. The steps telescope, so
start + Σ steps == probability exactly, and each step keeps its contribution's sign."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OTHER = "Other features"
CALIBRATION = "Calibration"
# A step smaller than this is left out of the picture (it is still in the sum).
EPSILON = 1e-12


@dataclass(frozen=True)
class Step:
    label: str
    feature: str | None  # None for the "other features" and calibration steps
    contribution: float  # in log-odds (0 for calibration)
    start: float  # probability before the step
    end: float  # probability after it

    @property
    def delta(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Waterfall:
    base: float  # the model's baseline probability (logistic of the bias)
    steps: list[Step]
    probability: float  # == base + Σ step.delta

    @property
    def total(self) -> float:
        return self.base + sum(step.delta for step in self.steps)


def _logistic(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def probability_waterfall(
    contributions: Mapping[str, Any], probability: float, *, labels: Mapping[str, str] = {}
) -> Waterfall | None:
    """The steps from the baseline to `probability`, largest driver first; None when the
    prediction carries no log-odds explanation (rule-based, regression or survival)."""
    if contributions.get("space") != "log_odds" or "bias" not in contributions:
        return None
    bias = float(contributions["bias"])
    features = {str(k): float(v) for k, v in (contributions.get("features") or {}).items()}
    raw = float(contributions.get("raw", bias + sum(features.values())))
    ordered = sorted(features.items(), key=lambda item: -abs(item[1]))
    rest = raw - bias - sum(features.values())
    if abs(rest) > EPSILON:
        ordered.append((OTHER, rest))
    steps: list[Step] = []
    running = bias
    base = _logistic(bias)
    at = base
    for name, value in ordered:
        running += value
        after = _logistic(running)
        feature = None if name == OTHER else name
        steps.append(Step(labels.get(name, name), feature, value, at, after))
        at = after
    if abs(probability - at) > EPSILON:
        steps.append(Step(CALIBRATION, None, 0.0, at, float(probability)))
    return Waterfall(base=base, steps=steps, probability=float(probability))
