"""Wording of customer activity features that are not per event type: open tickets, activity
velocity, the weekly activity slope, channel diversity and high-value actions
(features/customers.py)."""

from __future__ import annotations

from propensity.narratives import formatting as fmt
from propensity.narratives.facts import Family
from propensity.narratives.scene import Phrase, Scene, trend_of_slope
from propensity.narratives.words_events import trend_value


def describe(name: str, scene: Scene) -> Phrase | None:
    if name == "open_tickets":
        value = scene.num(name)
        if value is None and scene.facts.unresolved_tickets is not None:
            value = float(scene.facts.unresolved_tickets)
        if value is None:
            return Phrase(
                family=Family.SUPPORT,
                title="Open Support Tickets",
                text="Open support tickets: no data",
            )
        if value == 0:
            return Phrase(
                family=Family.SUPPORT,
                title="No Open Support Tickets",
                text="No unresolved support tickets",
            )
        return Phrase(
            family=Family.SUPPORT_BACKLOG,
            title="Unresolved Support Tickets",
            text=fmt.count(value, "unresolved support ticket"),
        )
    if name == "activity_per_day_30d":
        value = scene.num(name)
        family = Family.LEAD_ENGAGEMENT if scene.audience == "lead" else Family.USAGE
        trend = trend_value("activity", scene)
        if value is None:
            return Phrase(
                family=family, title="Activity Velocity", text="Activity velocity: no data"
            )
        qualifier = scene.qualifier(name, value, fmt.number)
        return Phrase(
            family=family,
            title=scene.adjective(name, value) + "Activity Velocity",
            text=f"{fmt.count(value, 'activity', 'activities')} per day over the last 30 days"
            + qualifier,
            trend=trend,
        )
    if name.startswith("activity_slope_"):
        return _slope(name, scene)
    if name in ("channel_diversity_90d", "high_value_actions_90d"):
        return _breadth(name, scene)
    return None


def _slope(name: str, scene: Scene) -> Phrase:
    weeks = name.removeprefix("activity_slope_").removesuffix("w")
    value = scene.num(name)
    family = Family.LEAD_ENGAGEMENT if scene.audience == "lead" else Family.USAGE
    if value is None:
        return Phrase(
            family=family, title="Weekly Activity Trend", text="Weekly activity trend: no data"
        )
    shown = fmt.number(abs(value))
    if shown == "0":
        return Phrase(
            family=family,
            title="Flat Weekly Activity",
            text=f"Weekly activity flat over the last {weeks} weeks",
            trend="stable",
        )
    falling = value < 0
    return Phrase(
        family=family,
        title="Declining Weekly Activity" if falling else "Growing Weekly Activity",
        text=(
            f"Weekly activity {'falling' if falling else 'rising'} by {shown} activities per "
            f"week over the last {weeks} weeks"
        ),
        trend=trend_of_slope(value, threshold=0.0),
    )


def _breadth(name: str, scene: Scene) -> Phrase:
    value = scene.num(name)
    family = Family.LEAD_ENGAGEMENT if scene.audience == "lead" else Family.USAGE
    channels = name.startswith("channel")
    title = "Channel Diversity" if channels else "High-Value Actions"
    if value is None:
        return Phrase(family=family, title=title, text=f"{title}: no data")
    qualifier = scene.qualifier(name, value, fmt.number)
    if channels:
        text = (
            f"Active on {fmt.count(value, 'channel')} in the last 90 days"
            if value
            else "No activity on any channel in the last 90 days"
        )
    else:
        text = (
            f"{fmt.count(value, 'high-value action')} (form submissions, meetings, demos, "
            "replies) in the last 90 days"
            if value
            else "No high-value actions (form submissions, meetings, demos, replies) in the last "
            "90 days"
        )
    return Phrase(family=family, title=scene.adjective(name, value) + title, text=text + qualifier)
