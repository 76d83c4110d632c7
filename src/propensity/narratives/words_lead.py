"""Wording of lead activity features: lifetime counts, velocity, recency, bursts, engagement
score, email responses and sequences (features/leads.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

from propensity.narratives import formatting as fmt
from propensity.narratives.facts import Family, JsonValue, Trend
from propensity.narratives.scene import Phrase, Scene, trend_of_change
from propensity.narratives.words_events import EVENTS

_COUNT = re.compile(r"^(?P<event>[a-z_]+)_count$")
_RECENT = re.compile(r"^activities_(?P<w>\d+)d$")
_RATE = re.compile(r"^(?P<what>email_open_rate|email_click_rate|sequence_engagement)$")
_ENGAGED = Family.LEAD_ENGAGEMENT
Handler = Callable[[str, Scene], Phrase]
RECENT_DAYS = 7
# Lead features about the lead's activity rate: they share its 7-day vs earlier trend.
ACTIVITY_FEATURES = frozenset(
    {"activity_velocity", "total_activities", "activities_7d", "activities_30d"}
)


# The lead-ml document's risk-factor trend (its public client's enum).
LeadTrend = Literal["improving", "stable", "declining"]
# Factors about what the lead does: they move with its activity rate.
ACTIVITY_FAMILIES = frozenset(
    {Family.LEAD_ENGAGEMENT, Family.EMAIL, Family.MEETINGS, Family.SEQUENCE, Family.STALE}
)


def factor_trend(trend: str | None) -> LeadTrend:
    """A lead factor's trend in the lead-ml document's words. The direction is the lead's own
    activity over the window of lead_activity_trend (the last 7 days against the 23 before):
    rising activity is improving, falling declining. A factor with no history in that window
    is stable: attributes such as title, source or budget (Propensity keeps one value of
    them), and leads younger than 8 days."""
    if trend in ("improving", "increasing"):
        return "improving"
    if trend in ("declining", "decreasing"):
        return "declining"
    return "stable"


def lead_factor_trend(family: Family, trend: Trend | None, scene: Scene) -> LeadTrend:
    """factor_trend of a lead factor: its phrase's own trend, else the lead's activity trend
    for factors about its activity (ACTIVITY_FAMILIES)."""
    if trend is None and family in ACTIVITY_FAMILIES:
        trend = lead_activity_trend(scene)
    return factor_trend(trend)


MISSING_VALUE = "none"


def factor_value(value: JsonValue) -> JsonValue:
    """A factor's currentValue with the lead-ml document's type: numbers as numbers (yes/no
    features as 1/0), categories as their text, and a value the lead does not have (no company
    size, no reply to time yet: the model reads the absence itself) as MISSING_VALUE."""
    if isinstance(value, bool):
        return int(value)
    if value is None or (isinstance(value, float) and value != value):
        return MISSING_VALUE
    return value


def lead_activity_trend(scene: Scene) -> Trend | None:
    """Activities per day in the last 7 days against the 23 days before (the rest of the 30-day
    window), or the part of it the lead existed for. None when less than a day of that earlier
    window existed or a count is missing."""
    recent, month = scene.num("activities_7d"), scene.num("activities_30d")
    if recent is None or month is None or month < recent:
        return None
    age = scene.num("days_since_created")
    earlier_days = 23.0 if age is None else min(23.0, age - 7.0)
    if earlier_days < 1:
        return None
    return trend_of_change(recent / 7.0, (month - recent) / earlier_days)


def describe(name: str, scene: Scene) -> Phrase | None:
    if scene.audience != "lead":
        return None
    simple = _SIMPLE.get(name)
    if simple is not None:
        return simple(name, scene)
    for pattern, handler in ((_COUNT, _count), (_RECENT, _recent), (_RATE, _rate)):
        match = pattern.match(name)
        if match:
            return handler(name, match, scene)
    return None


def _count(name: str, match: re.Match[str], scene: Scene) -> Phrase | None:
    words = EVENTS.get(match["event"])
    if words is None:
        return None
    family = Family.OUTREACH if match["event"] == "email_sent" else _ENGAGED
    singular, plural = (
        ("email sent to the lead", "emails sent to the lead")
        if match["event"] == "email_sent"
        else (words.singular, words.plural)
    )
    title = "Outbound Emails" if match["event"] == "email_sent" else words.title
    value = scene.num(name)
    if value is None:
        return Phrase(
            family=family, title=title, text=f"{fmt.lower_first(title).capitalize()}: no data"
        )
    if value == 0:
        return Phrase(family=family, title=words.none_title, text=f"No {plural} yet")
    return Phrase(
        family=family,
        title=scene.adjective(name, value) + title,
        text=fmt.count(value, singular, plural) + scene.qualifier(name, value, fmt.number),
    )


def _recent(name: str, match: re.Match[str], scene: Scene) -> Phrase:
    value = scene.num(name)
    w = match["w"]
    trend = lead_activity_trend(scene)
    if value is None:
        return Phrase(family=_ENGAGED, title="Recent Activity", text="Recent activity: no data")
    if value == 0:
        return Phrase(
            family=_ENGAGED,
            title="No Recent Activity",
            text=f"No activity in the last {w} days",
            trend=trend,
        )
    return Phrase(
        family=_ENGAGED,
        title=scene.adjective(name, value) + "Recent Activity",
        text=f"{fmt.count(value, 'activity', 'activities')} in the last {w} days"
        + scene.qualifier(name, value, fmt.number),
        trend=trend,
    )


def _rate(name: str, match: re.Match[str], scene: Scene) -> Phrase:
    what = match["what"]
    value = scene.num(name)
    title = {
        "email_open_rate": "Email Open Rate",
        "email_click_rate": "Email Click Rate",
        "sequence_engagement": "Sequence Engagement",
    }[what]
    if value is None:
        return Phrase(family=_ENGAGED, title="No Emails Sent Yet", text="No emails sent yet")
    verb = {
        "email_open_rate": "Opened",
        "email_click_rate": "Clicked",
        "sequence_engagement": "Responded to",
    }[what]
    return Phrase(
        family=_ENGAGED,
        title=scene.adjective(name, value) + title,
        text=f"{verb} {fmt.percent(value)} of emails sent"
        + scene.qualifier(name, value, fmt.percent),
    )


def _velocity(name: str, scene: Scene) -> Phrase:
    value = scene.num(name)
    trend = lead_activity_trend(scene)
    if value is None:
        return Phrase(family=_ENGAGED, title="Activity Velocity", text="Activity velocity: no data")
    age = scene.num("days_since_created")
    # The velocity's window is the last 30 days, or the lead's whole life when shorter.
    window = (
        f"over the lead's {fmt.days(max(1.0, age))}"
        if age is not None and age < 30
        else "over the last 30 days"
    )
    return Phrase(
        family=_ENGAGED,
        title=scene.adjective(name, value) + "Activity Velocity",
        text=f"{fmt.count(value, 'activity', 'activities')} per day {window}"
        + scene.qualifier(name, value, fmt.number),
        trend=trend,
    )


def _total(name: str, scene: Scene) -> Phrase:
    value = scene.num(name)
    trend = lead_activity_trend(scene)
    if value is None:
        return Phrase(family=_ENGAGED, title="Total Activities", text="Total activities: no data")
    if value == 0:
        return Phrase(family=_ENGAGED, title="No Activity", text="No activity yet", trend=trend)
    return Phrase(
        family=_ENGAGED,
        title=scene.adjective(name, value) + "Total Activities",
        text=f"{fmt.count(value, 'activity', 'activities')} in total"
        + scene.qualifier(name, value, fmt.number),
        trend=trend,
    )


def _number_phrase(
    title: str, family: Family, render: Callable[[float], str], missing: str
) -> Handler:
    """A numeric feature rendered by `render` plus the training qualifier; `missing` when there
    is no value."""

    def handler(name: str, scene: Scene) -> Phrase:
        value = scene.num(name)
        if value is None:
            return Phrase(family=family, title=title, text=missing)
        return Phrase(
            family=family,
            title=scene.adjective(name, value) + title,
            text=render(value) + scene.qualifier(name, value, fmt.number),
        )

    return handler


def _days_since_activity(name: str, scene: Scene) -> Phrase:
    value = scene.num(name)
    if value is None:
        return Phrase(family=Family.STALE, title="No Activity", text="No recorded activity")
    level = scene.level(name, value)
    title = {"high": "Stale Lead", "low": "Recently Active"}.get(
        level or "", "Time Since Last Activity"
    )
    if round(value) < 1:
        return Phrase(family=Family.STALE, title=title, text="Active within the last day")
    # Both read the same fact; "no activity in the last 2 days" overstates a short gap.
    text = (
        f"Last activity {fmt.days(value)} ago"
        if value < RECENT_DAYS
        else f"No activity in the last {fmt.days(value)}"
    )
    return Phrase(
        family=Family.STALE, title=title, text=text + scene.qualifier(name, value, fmt.days)
    )


def _recency(name: str, scene: Scene) -> Phrase:
    value = scene.num(name)
    if value is None:
        return Phrase(family=Family.STALE, title="Recency", text="Recency score: no data")
    days = scene.num("days_since_last_activity")
    score = f"recency score {fmt.number(round(value, 2))}"
    if days is not None:
        text = f"Last activity {fmt.days(days)} ago ({score})"
    elif value == 0:
        text = f"No recorded activity ({score})"
    else:
        text = score[:1].upper() + score[1:]
    return Phrase(family=Family.STALE, title=scene.adjective(name, value) + "Recency", text=text)


def _burst(name: str, scene: Scene) -> Phrase:
    flag = scene.flag(name)
    if flag is None:
        return Phrase(family=_ENGAGED, title="Activity Burst", text="Activity burst: no data")
    if flag:
        return Phrase(family=_ENGAGED, title="Activity Burst", text="Burst of activity this week")
    return Phrase(family=_ENGAGED, title="No Activity Burst", text="No burst of activity this week")


def _response_time(name: str, scene: Scene) -> Phrase:
    value = scene.num(name)
    if value is None:
        return Phrase(
            family=_ENGAGED, title="No Email Responses", text="No responses to emails yet"
        )
    level = scene.level(name, value)
    title = {"high": "Slow Response Time", "low": "Fast Response Time"}.get(
        level or "", "Response Time"
    )
    return Phrase(
        family=_ENGAGED,
        title=title,
        text=f"Responds to emails in {fmt.duration(value)} on average",
    )


def _sequence(name: str, scene: Scene) -> Phrase:
    flag = scene.flag(name)
    if flag is None:
        return Phrase(
            family=Family.SEQUENCE, title="Email Sequence", text="Email sequence: no data"
        )
    if flag:
        return Phrase(
            family=Family.SEQUENCE,
            title="Active Email Sequence",
            text="In an active email sequence",
        )
    return Phrase(
        family=Family.SEQUENCE, title="No Active Sequence", text="Not in an active email sequence"
    )


def _age(name: str, scene: Scene) -> Phrase:
    value = scene.num(name)
    if value is None:
        return Phrase(family=Family.STALE, title="Lead Age", text="Lead age: no data")
    if name == "lead_age_weeks":
        text = f"Lead is {fmt.count(value, 'week')} old"
    elif round(value) < 1:
        text = "Lead created within the last day"
    else:
        text = f"Lead created {fmt.days(value)} ago"
    level = scene.level(name, value)
    title = {"high": "Old Lead", "low": "New Lead"}.get(level or "", "Lead Age")
    return Phrase(
        family=Family.STALE, title=title, text=text + scene.qualifier(name, value, fmt.number)
    )


_SIMPLE: dict[str, Handler] = {
    "activity_velocity": _velocity,
    "total_activities": _total,
    "days_since_last_activity": _days_since_activity,
    "recency_score": _recency,
    "activity_burst": _burst,
    "avg_response_time": _response_time,
    "is_in_active_sequence": _sequence,
    "days_since_created": _age,
    "lead_age_weeks": _age,
    "channel_diversity": _number_phrase(
        "Channel Diversity",
        _ENGAGED,
        lambda v: f"Active on {fmt.count(v, 'channel')}",
        "Channel diversity: no data",
    ),
    "high_value_action_count": _number_phrase(
        "High-Value Actions",
        _ENGAGED,
        lambda v: (
            f"{fmt.count(v, 'high-value action')} (form submissions, meetings, demos, replies)"
        ),
        "High-value actions: no data",
    ),
    "demo_meeting_14d": _number_phrase(
        "Recent Demos and Meetings",
        _ENGAGED,
        lambda v: f"{fmt.count(v, 'demo or meeting', 'demos and meetings')} in the last 14 days",
        "Demos and meetings: no data",
    ),
    "total_engagement_score": _number_phrase(
        "Engagement Score",
        _ENGAGED,
        lambda v: f"Engagement score of {fmt.number(v)}",
        "Engagement score: no data",
    ),
    "current_sequence_step": _number_phrase(
        "Sequence Step",
        Family.SEQUENCE,
        lambda v: f"At step {fmt.number(v)} of the email sequence",
        "No sequence step recorded",
    ),
}
