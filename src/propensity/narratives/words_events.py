"""Wording of customer event features: counts per window, recency, 30-day trends, viewing,
purchases and email rates (features/customers.py)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from propensity.narratives import formatting as fmt
from propensity.narratives.facts import Family, Trend
from propensity.narratives.scene import (
    Phrase,
    Scene,
    title_case,
    trend_of_change,
)


@dataclass(frozen=True)
class EventWords:
    singular: str
    plural: str
    title: str  # what a count of them is called in a title
    none_title: str  # title when there were none
    recency: str  # "No {recency} in the last N days"
    trend: str  # subject of a trend sentence
    family: Family


EVENTS: dict[str, EventWords] = {
    "login": EventWords(
        "login", "logins", "Login Activity", "No Logins", "logins", "Logins", Family.USAGE
    ),
    "page_view": EventWords(
        "page view", "page views", "Page Views", "No Page Views", "page views", "Page views",
        Family.USAGE,
    ),
    "feature_use": EventWords(
        "feature use", "feature uses", "Feature Usage", "No Feature Usage", "feature use",
        "Feature use", Family.ADOPTION,
    ),
    "email_sent": EventWords(
        "email sent to the customer", "emails sent to the customer", "Outbound Emails",
        "No Outbound Emails", "emails sent to the customer", "Emails sent", Family.OUTREACH,
    ),
    "email_open": EventWords(
        "email open", "email opens", "Email Opens", "No Email Opens", "email opens",
        "Email opens", Family.EMAIL,
    ),
    "email_click": EventWords(
        "email click", "email clicks", "Email Clicks", "No Email Clicks", "email clicks",
        "Email clicks", Family.EMAIL,
    ),
    "email_reply": EventWords(
        "email reply", "email replies", "Email Replies", "No Email Replies", "email replies",
        "Email replies", Family.EMAIL,
    ),
    "form_submit": EventWords(
        "form submission", "form submissions", "Form Submissions", "No Form Submissions",
        "form submissions", "Form submissions", Family.USAGE,
    ),
    "meeting": EventWords(
        "meeting", "meetings", "Meetings", "No Meetings", "meetings", "Meetings", Family.MEETINGS
    ),
    "call": EventWords("call", "calls", "Calls", "No Calls", "calls", "Calls", Family.MEETINGS),
    "demo": EventWords("demo", "demos", "Demos", "No Demos", "demos", "Demos", Family.MEETINGS),
    "executive_meeting": EventWords(
        "executive meeting", "executive meetings", "Executive Meetings",
        "No Executive Engagement", "executive engagement", "Executive meetings",
        Family.EXECUTIVE,
    ),
    "ticket_opened": EventWords(
        "support ticket opened", "support tickets opened", "Support Ticket Volume",
        "No New Support Tickets", "support tickets opened", "Support tickets opened",
        Family.SUPPORT,
    ),
    "ticket_resolved": EventWords(
        "support ticket resolved", "support tickets resolved", "Resolved Support Tickets",
        "No Resolved Support Tickets", "support tickets resolved", "Support tickets resolved",
        Family.SUPPORT,
    ),
    "payment_failed": EventWords(
        "payment failure", "payment failures", "Payment Failures", "No Payment Failures",
        "payment failures", "Payment failures", Family.BILLING,
    ),
    "purchase": EventWords(
        "purchase", "purchases", "Purchases", "No Purchases", "purchases", "Purchases",
        Family.PURCHASES,
    ),
    "watch": EventWords(
        "viewing", "viewings", "Watch Time", "No Viewing", "viewing",
        "Watch time", Family.CONTENT,
    ),
    "activity": EventWords(
        "activity", "activities", "Activity Level", "No Activity", "activity", "Activity",
        Family.USAGE,
    ),
}  # fmt: skip

_WINDOW = re.compile(r"^(?P<event>[a-z_]+?)_(?P<w>\d+)d$")
_TREND = re.compile(r"^(?P<event>[a-z_]+)_trend$")
_RECENCY = re.compile(r"^days_since_(?P<event>[a-z_]+)$")
_RATE = re.compile(r"^email_(?P<what>open|click|reply)_rate(_(?P<w>\d+)d)?$")
_UNKNOWN_EVENT = re.compile(r"^event_(?P<event>[a-z0-9_]+?)(_(?P<w>\d+)d)?$")
_QUOTED = re.compile(r"'([^']+)'")
_RATE_VERB = {"open": "Opened", "click": "Clicked", "reply": "Replied to"}


def describe(name: str, scene: Scene) -> Phrase | None:
    for handler in (_rate, _trend, _window, _recency, _unknown_event):
        phrase = handler(name, scene)
        if phrase is not None:
            return phrase
    return None


def _family(words: EventWords, scene: Scene) -> Family:
    if scene.audience == "lead" and words.family in (Family.USAGE, Family.EMAIL, Family.MEETINGS):
        return Family.LEAD_ENGAGEMENT
    return words.family


def _counts_prefix(event: str) -> str:
    return "watch_hours" if event == "watch" else event


def event_trend(event: str, scene: Scene) -> tuple[str, float] | None:
    """How the last 30 days compare with the monthly average of the 60 days before: (sentence
    tail, relative change). From the 30- and 90-day counts when both are
    known, else from the smoothed log ratio feature ({event}_trend = ln((recent + 1) /
    (earlier / 2 + 1)), so the change is exp(x) - 1)."""
    prefix = _counts_prefix(event)
    recent, total = scene.num(f"{prefix}_30d"), scene.num(f"{prefix}_90d")
    unit = " hours" if event == "watch" else ""
    if recent is not None and total is not None and total >= recent:
        earlier = (total - recent) / 2
        if earlier == 0:
            if recent == 0:
                return "none in the last 90 days", 0.0
            return f"rose from none to {fmt.number(recent)}{unit} in the last 30 days", 1.0
        change = (recent - earlier) / earlier
        pair = f"({fmt.number(recent)} vs {fmt.number(earlier)}{unit} a month)"
        return f"{_moved(change, '')} {pair}", change
    ratio = scene.num(f"{event}_trend")
    if ratio is None:
        return None
    change = math.exp(ratio) - 1
    return _moved(change, "about "), change


def _moved(change: float, about: str) -> str:
    pct = fmt.percent(abs(change))
    if pct == "0%":
        return "held steady in the last 30 days against the monthly average of the 60 days before"
    verb = "fell" if change < 0 else "rose"
    return (
        f"{verb} {about}{pct} in the last 30 days versus the monthly average of the 60 days before"
    )


def _trend_label(change: float) -> str:
    trend = trend_of_change(1.0 + change, 1.0)
    return {"increasing": "Rising", "decreasing": "Declining"}.get(trend or "", "Steady")


def trend_value(event: str, scene: Scene) -> Trend | None:
    found = event_trend(event, scene)
    if found is None:
        return None
    return trend_of_change(1.0 + found[1], 1.0)


def _trend(name: str, scene: Scene) -> Phrase | None:
    match = _TREND.match(name)
    if not match or match["event"] not in EVENTS:
        return None
    words = EVENTS[match["event"]]
    found = event_trend(match["event"], scene)
    if found is None:
        return Phrase(
            family=_family(words, scene),
            title=title_case(f"{words.trend} Trend"),
            text=f"{words.trend} trend: no data",
        )
    tail, change = found
    text = (
        f"No {words.recency} in the last 90 days"
        if tail.startswith("none")
        else f"{words.trend} {tail}"
    )
    return Phrase(
        family=_family(words, scene),
        title=title_case(f"{_trend_label(change)} {words.trend}"),
        text=text,
        trend=trend_value(match["event"], scene),
    )


def _window(name: str, scene: Scene) -> Phrase | None:
    match = _WINDOW.match(name)
    if not match:
        return None
    event, w = match["event"], match["w"]
    if event == "watch_hours":
        event = "watch"
    if event == "purchase_amount":
        return _purchase_amount(name, w, scene)
    if event not in EVENTS:
        return None
    words = EVENTS[event]
    value = scene.num(name)
    family = _family(words, scene)
    trend = trend_value(event, scene)
    if value is None:
        return Phrase(
            family=family, title=words.title, text=f"{words.trend} in the last {w} days: no data"
        )
    if value == 0:
        noun = "viewing" if event == "watch" else words.plural
        text = f"No {noun} in the last {w} days"
        return Phrase(family=family, title=words.none_title, text=text, trend=trend)
    if event == "watch":
        amount = f"{fmt.count(value, 'hour')} watched"
    else:
        amount = fmt.count(value, words.singular, words.plural)
    qualifier = scene.qualifier(name, value, fmt.number)
    title = scene.adjective(name, value) + words.title
    return Phrase(
        family=family, title=title, text=f"{amount} in the last {w} days{qualifier}", trend=trend
    )


def _purchase_amount(name: str, w: str, scene: Scene) -> Phrase:
    value = scene.num(name)
    if value is None:
        return Phrase(family=Family.PURCHASES, title="Purchase Amount", text="Purchases: no data")
    if value == 0:
        return Phrase(
            family=Family.PURCHASES, title="No Purchases", text=f"No purchases in the last {w} days"
        )
    qualifier = scene.qualifier(name, value, fmt.money)
    return Phrase(
        family=Family.PURCHASES,
        title=scene.adjective(name, value) + "Purchase Amount",
        text=f"{fmt.money(value)} purchased in the last {w} days{qualifier}",
    )


def _recency(name: str, scene: Scene) -> Phrase | None:
    match = _RECENCY.match(name)
    if not match or match["event"] not in EVENTS:
        return None
    words = EVENTS[match["event"]]
    value = scene.num(name)
    if match["event"] == "executive_meeting" and value is None:
        value = scene.facts.days_since_executive_meeting
    family = _family(words, scene)
    if value is None:
        return Phrase(
            family=family,
            title=title_case(f"Last {words.singular}"),
            text=f"Time since the last {words.singular}: no data",
        )
    if round(value) < 1:
        return Phrase(
            family=family,
            title=title_case(f"Recent {words.trend}"),
            text=f"Last {words.singular} within the last day",
        )
    title = (
        words.none_title
        if match["event"] == "executive_meeting"
        else title_case(f"No Recent {words.trend}")
    )
    qualifier = scene.qualifier(name, value, fmt.days)
    return Phrase(
        family=family,
        title=title,
        text=f"No {words.recency} in the last {fmt.days(value)}{qualifier}",
    )


def _rate(name: str, scene: Scene) -> Phrase | None:
    match = _RATE.match(name)
    if not match:
        return None
    what, w = match["what"], match["w"]
    family = Family.LEAD_ENGAGEMENT if scene.audience == "lead" else Family.EMAIL
    title = f"Email {what.title()} Rate"
    value = scene.num(name)
    period = f" in the last {w} days" if w else ""
    if value is None:
        text = f"No emails sent{period}" if w else "No emails sent yet"
        return Phrase(family=family, title=f"No Emails Sent{'' if w else ' Yet'}", text=text)
    qualifier = scene.qualifier(name, value, fmt.percent)
    return Phrase(
        family=family,
        title=scene.adjective(name, value) + title,
        text=f"{_RATE_VERB[what]} {fmt.percent(value)} of emails sent{period}{qualifier}",
    )


def _unknown_event(name: str, scene: Scene) -> Phrase | None:
    """Imported event types the builder does not know: `event_<type>_<w>d` and
    `days_since_event_<type>` (features/customers.py)."""
    recency = name.startswith("days_since_event_")
    match = _UNKNOWN_EVENT.match(name.removeprefix("days_since_"))
    if not match:
        return None
    quoted = _QUOTED.search(scene.description(name))
    label = quoted.group(1) if quoted else match["event"].replace("_", " ")
    title = title_case(f"{label.replace('_', ' ')} Events")
    value = scene.num(name)
    if value is None:
        return Phrase(family=Family.GENERIC, title=title, text=f"'{label}' events: no data")
    noun = f"'{label}' event"
    if recency:
        text = f"No {noun}s in the last {fmt.days(value)}"
    elif match["w"]:
        text = f"{fmt.count(value, noun)} in the last {match['w']} days"
    else:
        text = fmt.count(value, noun)
    return Phrase(
        family=Family.GENERIC, title=title, text=text + scene.qualifier(name, value, fmt.number)
    )
