"""The risk rules of the subscriber churn portfolio (pure: no database).

- At risk ("flagged", a predicted churner): probability >= the active model's learned
  decision threshold; the churn-KPI At-Risk cohort and RetainStream's High level alike.
- Risk levels are relative to that threshold t: High when >= t, Medium when >= t / 2, Low
  below that.
- Distribution buckets start at 0.0, 0.1, 0.2, 0.4, 0.6, 0.8, 0.9 and 1.0; each covers
  [start, next start), so a probability lands in the highest start not above it and the 1.0
  bucket holds only probabilities of exactly 1.0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from propensity.models import ModelVersion

# A binary model always has a learned threshold; this only guards a malformed registry row.
FALLBACK_THRESHOLD = 0.5
MEDIUM_SHARE_OF_THRESHOLD = 0.5
HIGH, MEDIUM, LOW = "High", "Medium", "Low"
RISK_LEVELS = (HIGH, MEDIUM, LOW)
BUCKETS = (0.0, 0.1, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0)


def threshold_of(version: ModelVersion) -> float:
    """The decision threshold of a churn model version: what flags a subscriber at risk."""
    return float(version.threshold) if version.threshold is not None else FALLBACK_THRESHOLD


def is_at_risk(probability: float, threshold: float) -> bool:
    return probability >= threshold


def medium_cutoff(threshold: float) -> float:
    return threshold * MEDIUM_SHARE_OF_THRESHOLD


def risk_level(probability: float, threshold: float) -> str:
    """High, Medium or Low for a churn probability under the model's threshold."""
    if is_at_risk(probability, threshold):
        return HIGH
    if probability >= medium_cutoff(threshold):
        return MEDIUM
    return LOW
