"""Narratives: computed facts in, text out. Pure (no database, no HTTP, no LLM), deterministic,
and every number in every sentence is one of the inputs or derived from them by a rule below.

    PredictionFacts.build(prediction_type=, contributions=, values=, definitions=(),
                          feature_stats=None, probability=None, predicted_value=None,
                          interval=None, threshold=None, horizon_days=None, level=None,
                          current_score=None, kind=None, facts=EntityFacts()) -> PredictionFacts
    narrate(*, facts, top_n=5, driver_lines=3) -> Narrative
        risk_factors / strengths: [Factor(feature, factor, impact, description, current_value,
        trend, contribution)]; Factor.to_dict() is {factor, impact, description} and
        to_dict(with_value=True) adds currentValue and trend (lead-ml)
        primary_drivers: [str]; recommendations: [Recommendation(action, priority, timeframe,
        expected_impact, rationale, features)], to_dict() in the documents' camelCase
        explanation: str; decision_factors: [str]; level; intervention_urgency (CHURN)
    decision_factors(*, facts, top_n=3) -> [str]        ml-platform decisionFactors/keyFactors
    lead_reasoning(*, facts, max_items=3) -> str        ranked-leads `reasoning`
    common_patterns(*, top_leads, all_leads, definitions=(), max_patterns=5) -> [str]
    health_narrative(*, dimensions, overall=None, predicted_score=None, horizon_days=30,
                     k=3.5) -> HealthNarrative(insights, anomalies, strength_areas,
                     risk_areas, recommendations)
    detect_anomalies(*, dimensions, k=3.5, min_history=5) -> [Anomaly]
    classify_areas(*, dimensions, anomalies=None) -> (strength areas, risk areas)
    health_insights(*, overall, dimensions=None, predicted_score=None, horizon_days=30)

Histories are `{date: score}`; `dimensions` is `{dimension: {date: score}}`.

Sign conventions
    Contributions are in the model's raw space; positive pushes the output up. A driver is a
    RISK when it pushes towards the bad outcome: up for CHURN (churn) and TIME_TO_CLOSE (more
    days), down for CONVERSION and HEALTH_TREND. The others are STRENGTHS.

Driver ranking and impact
    Drivers are ordered by |contribution| (ties by name). A contribution under 1% of the
    entity's total |contribution| is noise and never reported. impact = |c| / max |c| over all of
    the entity's features (either sign): high >= 0.5, medium >= 0.2, low below, so a weak risk
    beside strong strengths reads as low.

Wording
    Every feature maps to a title and a sentence with the entity's real value(s)
    (wording.describe). Known families: health (scores, changes, slopes, dimensions), customer
    events (counts per window, recency, 30-day trends), lead activity, profile. Anything else
    (imported columns) reads "<label>: <value>" from the definition's description or the name.
    Adjectives ("Low", "High", "Stale", "New") appear only when `feature_stats` place the value in
    the training data's bottom decile (<= p10 and < median) or top decile (>= p90 and > median);
    such values also carry "(low; median X)". Generic numeric features always carry their
    position against the median when statistics are given.

Derived numbers (the only numbers that are not inputs)
    - earlier health score = current score - health_change_Nd;
    - 30-day trend: change = (last 30 days - earlier monthly average) / earlier monthly average,
      earlier monthly average = (90-day count - 30-day count) / 2; without both counts, from the
      smoothed log ratio feature: exp(x) - 1 ("about");
    - percentages = rate * 100 rounded; health insight changes = (now - then) / then;
    - response times in minutes/hours/days = seconds / 60, 3,600, 86,400;
    - medians and percentiles of the histories and lead sets the functions are given.
    Numbers print as integers without decimals, otherwise 2 decimals under 10, 1 under 100,
    none from 100 (trailing zeros dropped); money with $ and thousands separators (cents only
    under $1,000); percentages rounded to whole numbers; days as "N days".

Trends (lead risk factors' `trend`; null when it cannot be computed)
    Paired recent-vs-earlier rates: increasing/decreasing beyond a 10% relative change, else
    stable. Customer events: last 30 days vs the monthly average of the 60 days before. Lead
    activity: per day in the last 7 days vs the 23 days before (or the part the lead existed,
    at least a day). Health: change/slope beyond 1 point (per 30 days).

Levels and urgency
    Levels come from the caller (riskCategory, HOT/WARM/COLD); otherwise for binary types:
    critical >= max(0.8, threshold), high >= threshold, medium >= threshold / 2, else low
    (HOT/WARM/COLD with the same cut-offs; threshold 0.5 when not given). HEALTH_TREND's level is
    the trajectory: improving/declining when the forecast is >= 3 points above/below the
    current score, else stable. CHURN intervention urgency: critical -> immediate, high ->
    this_week, medium -> this_month, low -> monitor, one step sooner when the renewal is due
    within 30 days and the level is not low.

Recommendations (playbook.py)
    One play per (audience, driver family, risk|strength), de-duplicated by action (rationales
    merged, up to two facts), ordered by priority then driver strength, at most 5. priority =
    the strongest driver's impact, one step higher when the prediction is urgent (critical/high
    churn, HOT lead, declining health) and one lower when it is not (low churn, COLD lead,
    improving health). Timeframes per priority: accounts 5 days / 2 weeks / 30 days,
    subscribers 2 days / 1 week / 2 weeks, leads 3 days / 1 week / 2 weeks; a renewal driver
    uses "Before the renewal in N days". Unknown risk features get "Review <factor> ...".

Health anomalies (health.py)
    Per dimension, the latest score against the dimension's own earlier scores (at least 5):
    robust z = (latest - median) / max(1.4826 * MAD, 1 point); flagged when |z| >= k = 3.5
    (Iglewicz and Hoaglin's cut-off). A fixed drop on a naturally volatile dimension is not
    flagged because its MAD is large. Drops: severity high when |z| >= 2k, else medium; rises: low.

Strength and risk areas
    Risk: latest score < 50, or least-squares slope over the last 90 days <= -5 points per 30
    days, or an anomalous drop. Strength: latest score >= 70 and not a risk. Risks lowest first,
    strengths highest first.

Health insights
    trend: overall score now vs the snapshot nearest 30 days earlier (within 7 days; or the
    earliest when the history is shorter), severity critical at a decline >= 20%, warning >= 10%,
    info below, positive for a rise; forecast: the predicted score vs now; dimension: any
    dimension that moved >= 10 points over the same look-back.

Common patterns (leads.py)
    Needs >= 3 top leads. Category or true boolean: held by >= 60% of top leads and by >= 20
    points more than among all leads. Number: top leads' median above the 75th percentile of
    all leads ("High ...") or below the 25th ("Low ..."). Missing/unknown values are never a
    trait; at most 5 patterns, strongest first.
"""

from propensity.narratives.facts import (
    EntityFacts,
    FeatureInfo,
    FeatureStats,
    HealthPoint,
    PredictionFacts,
)
from propensity.narratives.health import (
    Anomaly,
    HealthNarrative,
    Insight,
    classify_areas,
    detect_anomalies,
    health_insights,
    health_narrative,
)
from propensity.narratives.leads import common_patterns, lead_reasoning
from propensity.narratives.narrate import Factor, Narrative, decision_factors, narrate
from propensity.narratives.playbook import Recommendation, merge

__all__ = [
    "Anomaly",
    "EntityFacts",
    "Factor",
    "FeatureInfo",
    "FeatureStats",
    "HealthNarrative",
    "HealthPoint",
    "Insight",
    "Narrative",
    "PredictionFacts",
    "Recommendation",
    "classify_areas",
    "common_patterns",
    "decision_factors",
    "detect_anomalies",
    "health_insights",
    "health_narrative",
    "lead_reasoning",
    "merge",
    "narrate",
]
