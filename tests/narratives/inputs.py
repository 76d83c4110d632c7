"""Input builders for narrative tests: realistic examples and seeded random entities over
every declared feature (plus imported columns the builder cannot know)."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

from propensity.features import declared_features
from propensity.narratives import (
    EntityFacts,
    FeatureInfo,
    FeatureStats,
    Narrative,
    PredictionFacts,
)
from propensity.narratives.facts import FeatureLike
from propensity.narratives.playbook import TIMEFRAMES

TYPES: tuple[tuple[str, str | None], ...] = (
    ("CHURN", "account"),
    ("CHURN", "subscriber"),
    ("CONVERSION", None),
    ("TIME_TO_CLOSE", None),
    ("HEALTH_TREND", None),
)
CATEGORIES = {
    "email_domain_type": ["corporate", "free", "other"],
    "title_seniority": [
        "c_level",
        "vp",
        "director",
        "manager",
        "individual_contributor",
        "unknown",
    ],
    "company_size_estimate": ["small", "medium", "large", "enterprise", "unknown"],
    "day_pattern": ["weekday", "weekend", "mixed", "none"],
    "time_pattern": ["business_hours", "after_hours", "mixed", "none"],
    "timeline": ["3-6 months", "immediately", "next year"],
    "contract": ["Month-to-month", "One year", "Two year"],
}
# Columns of an imported file (the Telco churn export) the feature builder has no wording for.
IMPORTED: tuple[FeatureLike, ...] = (
    FeatureInfo(name="contract", kind="categorical", description="Imported attribute contract"),
    FeatureInfo(name="tenure", kind="numeric", description="Imported attribute tenure"),
    FeatureInfo(
        name="monthly_charges", kind="numeric", description="Imported attribute monthly_charges"
    ),
    FeatureInfo(name="paperless_billing", kind="boolean", description="Imported attribute x"),
    FeatureInfo(name="q3_score", kind="numeric", description=""),
)


def definitions_for(ptype: str, kind: str | None) -> list[FeatureLike]:
    return [*declared_features(ptype, kind=kind), *IMPORTED]


def random_value(rng: random.Random, feature: FeatureLike) -> object:
    roll = rng.random()
    if roll < 0.08:
        return None
    if roll < 0.12:
        return math.nan
    if feature.kind == "boolean":
        return rng.choice([0.0, 1.0, True, False])
    if feature.kind == "categorical":
        return rng.choice(CATEGORIES.get(feature.name, ["alpha", "beta", "Gold plan"]))
    signed = any(w in feature.name for w in ("change", "slope", "trend"))
    shape = rng.random()
    if shape < 0.2:
        value = float(rng.randint(0, 40))
    elif shape < 0.4:
        value = round(rng.uniform(0, 1), 4)
    elif shape < 0.8:
        value = round(rng.uniform(0, 400), 3)
    else:
        value = round(rng.uniform(0, 2_000_000), 2)
    if signed:
        value = round(rng.uniform(-3, 3), 4) if "trend" in feature.name else value - 200
    return value


def random_stats(rng: random.Random) -> FeatureStats:
    points = sorted(round(rng.uniform(0, 300), 3) for _ in range(5))
    return FeatureStats(p10=points[0], p25=points[1], p50=points[2], p75=points[3], p90=points[4])


def random_facts(rng: random.Random, ptype: str, kind: str | None) -> PredictionFacts:
    definitions = definitions_for(ptype, kind)
    chosen = [d for d in definitions if rng.random() < 0.6]
    values = {d.name: random_value(rng, d) for d in definitions if rng.random() < 0.85}
    contributions = {d.name: rng.gauss(0, 1) * rng.choice([0.01, 0.1, 1.0]) for d in chosen}
    stats = {
        d.name: random_stats(rng) for d in definitions if d.kind == "numeric" and rng.random() < 0.5
    }
    binary = ptype in ("CHURN", "CONVERSION")
    predicted = None
    if ptype == "TIME_TO_CLOSE":
        predicted = round(rng.uniform(1, 200), 2)
    if ptype == "HEALTH_TREND":
        predicted = round(rng.uniform(0, 100), 2)
    low = round(rng.uniform(0, 30), 2)
    return PredictionFacts.build(
        prediction_type=ptype,
        kind=kind,
        contributions=contributions,
        values=values,
        definitions=definitions,
        feature_stats=stats,
        probability=round(rng.random(), 4) if binary else None,
        threshold=round(rng.uniform(0.1, 0.9), 3) if binary and rng.random() < 0.7 else None,
        horizon_days=rng.choice([None, 30, 90]),
        predicted_value=predicted,
        interval=(low, low + round(rng.uniform(1, 60), 2)) if ptype == "TIME_TO_CLOSE" else None,
        facts=EntityFacts(
            title=rng.choice([None, "VP Engineering", "Head of Growth 2"]),
            company=rng.choice([None, "ACME Corp"]),
            unresolved_tickets=rng.choice([None, 4]),
            days_to_renewal=rng.choice([None, 12.5, 200.0]),
        ),
    )


def random_cases(count: int, seed: int = 7) -> Iterator[PredictionFacts]:
    rng = random.Random(seed)
    for i in range(count):
        ptype, kind = TYPES[i % len(TYPES)]
        yield random_facts(rng, ptype, kind)


def narrative_texts(narrative: Narrative) -> list[str]:
    """Every text of a narrative except timeframes (checked against the documented set)."""
    texts = [narrative.explanation, *narrative.primary_drivers, *narrative.decision_factors]
    for factor in (*narrative.risk_factors, *narrative.strengths):
        texts += [factor.factor, factor.description]
    for item in narrative.recommendations:
        texts += [item.action, item.rationale, item.expected_impact]
    return texts


def timeframe_ok(timeframe: str) -> bool:
    documented = {t for table in TIMEFRAMES.values() for t in table.values()}
    return timeframe in documented or timeframe.startswith("Before the renewal in ")
