"""Feature -> words: the one entry point that turns a feature name and one entity's values into
a title and a sentence stating the real values. Known features have their own wording (health,
lead activity, customer events, profile); anything else (imported columns such as the Telco
file's `contract` or `tenure`) gets the generic wording built from its definition."""

from __future__ import annotations

from propensity.narratives import (
    words_activity,
    words_events,
    words_health,
    words_lead,
    words_profile,
)
from propensity.narratives.facts import JsonValue, json_value
from propensity.narratives.scene import Phrase, Scene

_SPECIFIC = (
    words_health.describe,
    words_lead.describe,
    words_activity.describe,
    words_events.describe,
    words_profile.describe,
)


def describe(name: str, scene: Scene) -> Phrase:
    for handler in _SPECIFIC:
        phrase = handler(name, scene)
        if phrase is not None:
            return phrase
    return words_profile.generic(name, scene)


def current_value(name: str, scene: Scene) -> JsonValue:
    """The entity's value as JSON (booleans stored as 0/1 read back as true/false)."""
    if scene.kind(name) == "boolean":
        return scene.flag(name)
    return json_value(scene.raw(name))
