"""Lead ranking text: a one-line reasoning per lead and the patterns the top leads share."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence

from propensity.narratives import formatting as fmt
from propensity.narratives.facts import (
    Driver,
    Family,
    FeatureLike,
    FeatureStats,
    PredictionFacts,
    quantile,
    rank_drivers,
)
from propensity.narratives.narrate import scene_of
from propensity.narratives.scene import Phrase, Scene, without_qualifier
from propensity.narratives.wording import describe
from propensity.narratives.words_profile import SENIOR_TITLES, generic_label

MIN_TOP_LEADS = 3  # fewer top leads than this share nothing worth calling a pattern
MIN_TOP_SHARE = 0.60  # a trait held by at least this share of the top leads...
MIN_LIFT = 0.20  # ...and by at least this much more of them than of all leads
MAX_PATTERNS = 5
REASONING_ITEMS = 3
MAX_GROUPED = 3  # engagement facts listed inside one reasoning clause

# Category values that describe the absence of information, never a trait.
_NOT_TRAITS = frozenset({"unknown", "none", ""})
LABELS = {
    "activity_velocity": "activity velocity",
    "email_open_count": "email opens",
    "email_click_count": "email clicks",
    "email_reply_count": "email replies",
    "page_view_count": "page views",
    "form_submit_count": "form submissions",
    "meeting_count": "meetings",
    "call_count": "calls",
    "demo_count": "demos",
    "email_sent_count": "emails sent",
    "channel_diversity": "channel diversity",
    "high_value_action_count": "high-value actions",
    "total_activities": "total activities",
    "activities_7d": "activity in the last 7 days",
    "activities_30d": "activity in the last 30 days",
    "demo_meeting_14d": "demos and meetings in the last 14 days",
    "recency_score": "recency score",
    "total_engagement_score": "engagement score",
    "email_open_rate": "email open rate",
    "email_click_rate": "email click rate",
    "sequence_engagement": "sequence engagement",
    "current_sequence_step": "sequence step",
    "budget": "budgets",
    "deal_value": "deal values",
}
# (pattern when the top leads are high, when they are low) where "High x" reads badly.
PATTERN_NAMES = {
    "days_since_last_activity": ("Long inactive", "Recently active"),
    "avg_response_time": ("Slow email responses", "Fast email responses"),
    "days_since_created": ("Older leads", "Newer leads"),
    "lead_age_weeks": ("Older leads", "Newer leads"),
}
_SHOW: dict[str, Callable[[float], str]] = {
    "email_open_rate": fmt.percent,
    "email_click_rate": fmt.percent,
    "sequence_engagement": fmt.percent,
    "avg_response_time": fmt.duration,
    "days_since_last_activity": fmt.days,
    "days_since_created": fmt.days,
    "budget": fmt.money,
    "deal_value": fmt.money,
}


def lead_reasoning(*, facts: PredictionFacts, max_items: int = REASONING_ITEMS) -> str:
    """One line naming what lifts this lead, with its values: "High engagement (12 email opens,
    5 email clicks), decision-maker title (VP)". Engagement facts are grouped into one clause,
    called high when one of them is in the training data's top decile. Without any strength, the
    line names what holds the lead back."""
    scene = scene_of(facts)
    risks, strengths = rank_drivers(facts.contributions, bad_sign=facts.bad_sign)
    pairs = [(d, describe(d.name, scene)) for d in strengths]
    if not pairs:
        held = [describe(d.name, scene).text for d in risks[:max_items]]
        if not held:
            return "No feature moves this lead's prediction notably"
        return "Held back by " + "; ".join(fmt.lower_first(t) for t in held)
    clauses: list[str] = []
    engaged: list[tuple[Driver, Phrase]] = [
        p for p in pairs if p[1].family is Family.LEAD_ENGAGEMENT
    ]
    for driver, phrase in pairs:
        if len(clauses) >= max_items:
            break
        if phrase.family is Family.LEAD_ENGAGEMENT:
            if engaged and driver is engaged[0][0]:
                clauses.append(_engagement_clause(engaged[:MAX_GROUPED], scene))
            continue
        clauses.append(fmt.lower_first(without_qualifier(phrase.text)))
    text = ", ".join(dict.fromkeys(clauses))
    return text[:1].upper() + text[1:]


def _engagement_clause(group: list[tuple[Driver, Phrase]], scene: Scene) -> str:
    high = False
    for driver, _ in group:
        value = scene.num(driver.name)
        if value is not None and scene.level(driver.name, value) == "high":
            high = True
    # Several features can read the same ("no emails sent yet" for opens, clicks and replies).
    phrases = [fmt.lower_first(without_qualifier(p.text)) for _, p in group]
    facts = ", ".join(dict.fromkeys(phrases))
    return f"{'high engagement' if high else 'engagement'} ({facts})"


def _kind(name: str, values: list[object], definitions: Mapping[str, FeatureLike]) -> str:
    definition = definitions.get(name)
    if definition is not None:
        return str(definition.kind)
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return "boolean"
    if present and all(fmt.is_number(v) for v in present):
        return "numeric"
    return "categorical"


def _trait_of(name: str, value: object, kind: str) -> str | None:
    """The trait a value stands for: a category, "true" for booleans, "senior" for the senior
    title groups; None when the value says nothing (missing, unknown, false)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if kind == "boolean":
        flag = Scene(values={name: value}).flag(name)
        return "true" if flag else None
    text = str(value).strip()
    if text.lower() in _NOT_TRAITS:
        return None
    if name == "title_seniority" and text in SENIOR_TITLES:
        return "senior"
    return text


def _trait_text(name: str, trait: str, definitions: Mapping[str, FeatureLike]) -> str:
    if name == "title_seniority" and trait == "senior":
        return "Decision-maker titles (C-level, VP or director)"
    value: object = True if trait == "true" else trait
    scene = Scene(values={name: value}, definitions=definitions, audience="lead")
    return describe(name, scene).text


def common_patterns(
    *,
    top_leads: Sequence[Mapping[str, object]],
    all_leads: Sequence[Mapping[str, object]],
    definitions: Sequence[FeatureLike] | Mapping[str, FeatureLike] = (),
    max_patterns: int = MAX_PATTERNS,
) -> list[str]:
    """What the top leads share compared with all leads (which include them).

    A category (or a true boolean) is a pattern when at least MIN_TOP_SHARE of the top leads
    have it and that share exceeds the share among all leads by at least MIN_LIFT. A number is a
    pattern when the top leads' median is above the 75th percentile of all leads ("High ...") or
    below the 25th ("Low ..."). Patterns are ordered by strength: the lift for categories, the
    share of top leads beyond that percentile minus the 25% expected by chance for numbers."""
    by_name = (
        dict(definitions) if isinstance(definitions, Mapping) else {d.name: d for d in definitions}
    )
    if len(top_leads) < MIN_TOP_LEADS or not all_leads:
        return []
    names = sorted({n for lead in top_leads for n in lead})
    found: list[tuple[float, str]] = []
    for name in names:
        top_values = [lead.get(name) for lead in top_leads]
        all_values = [lead.get(name) for lead in all_leads]
        kind = _kind(name, [*top_values, *all_values], by_name)
        if kind == "numeric":
            pattern = _numeric_pattern(name, top_values, all_values, by_name)
            if pattern is not None:
                found.append(pattern)
            continue
        found.extend(_category_patterns(name, kind, top_values, all_values, by_name))
    found.sort(key=lambda item: (-item[0], item[1]))
    return [text for _, text in found[:max_patterns]]


def _category_patterns(
    name: str,
    kind: str,
    top_values: list[object],
    all_values: list[object],
    definitions: Mapping[str, FeatureLike],
) -> list[tuple[float, str]]:
    top_traits = [_trait_of(name, v, kind) for v in top_values]
    all_traits = [_trait_of(name, v, kind) for v in all_values]
    out = []
    for trait in sorted({t for t in top_traits if t is not None}):
        share_top = top_traits.count(trait) / len(top_traits)
        share_all = all_traits.count(trait) / len(all_traits)
        if share_top >= MIN_TOP_SHARE and share_top - share_all >= MIN_LIFT:
            text = (
                f"{_trait_text(name, trait, definitions)} ({fmt.percent(share_top)} of top "
                f"leads vs {fmt.percent(share_all)} of all leads)"
            )
            out.append((share_top - share_all, text))
    return out


def _numeric_pattern(
    name: str,
    top_values: list[object],
    all_values: list[object],
    definitions: Mapping[str, FeatureLike],
) -> tuple[float, str] | None:
    top = sorted(v for v in (fmt.as_float(x) for x in top_values) if v is not None)
    everyone = sorted(v for v in (fmt.as_float(x) for x in all_values) if v is not None)
    if len(top) < MIN_TOP_LEADS or 2 * len(top) < len(top_values) or len(everyone) < len(top):
        return None
    stats = FeatureStats.from_values(everyone)
    if stats is None or stats.p25 is None or stats.p75 is None:
        return None
    median_top = statistics.median(top)
    if median_top > stats.p75:
        beyond = sum(v > stats.p75 for v in top) / len(top)
        high = True
    elif median_top < stats.p25:
        beyond = sum(v < stats.p25 for v in top) / len(top)
        high = False
    else:
        return None
    show = _SHOW.get(name, fmt.number)
    names = PATTERN_NAMES.get(name)
    if names is not None:
        head = names[0] if high else names[1]
    else:
        label = LABELS.get(name) or fmt.lower_first(
            generic_label(name, Scene(values={}, definitions=definitions))
        )
        head = f"{'High' if high else 'Low'} {label}"
    median_all = quantile(everyone, 0.5)
    if show(median_top) == show(median_all):
        # A difference the reader cannot see ("median 0 vs 0") is no pattern to report.
        return None
    text = f"{head} (median {show(median_top)} for top leads vs {show(median_all)} for all leads)"
    return beyond - 0.25, text
