"""Lead activity features at snapshot times: the lead-ml document's behavioral, temporal and
engagement groups, plus a few extras (the demographic group is in lead_columns.py).

Features with an `api_name` are the ones `GET /leads/:id/ml/features` returns (lead_profile.py
reads them from the same frame). Counts are over the lead's whole life before t (a lead's
history is short); windows are stated where they apply.
"""

from __future__ import annotations

import numpy as np

from propensity.features.attributes import Rows
from propensity.features.definitions import (
    CHANNEL_TYPES,
    HIGH_VALUE_TYPES,
    FeatureGroup,
    FeatureKind,
    FeatureSet,
    Source,
    define,
)
from propensity.features.loading import Entities
from propensity.features.streams import EventStreams
from propensity.features.windows import NO_START, US_PER_DAY, FloatArray, ago, days

_BEH, _TEMP, _ENG = FeatureGroup.BEHAVIORAL, FeatureGroup.TEMPORAL, FeatureGroup.ENGAGEMENT
_E = Source.EVENTS

RECENCY_DAYS = 14.0
# Weights of totalEngagementScore: effort and intent per action.
ENGAGEMENT_WEIGHTS = {
    "email_open": 1.0,
    "email_click": 3.0,
    "email_reply": 5.0,
    "page_view": 1.0,
    "form_submit": 4.0,
    "meeting": 8.0,
    "demo": 10.0,
    "call": 2.0,
}
ENGAGEMENT_SCALE = 40.0
ENGAGEMENT_TERMS = " + ".join(f"{w:g} {n}" for n, w in ENGAGEMENT_WEIGHTS.items())
ACTIVE_SEQUENCE_DAYS = 14


def _add(
    out: FeatureSet,
    name: str,
    group: FeatureGroup,
    description: str,
    computation: str,
    values: np.ndarray,
    *,
    api: str | None = None,
    kind: FeatureKind = FeatureKind.NUMERIC,
    source: Source = _E,
    clock: bool = False,
) -> None:
    out.add(define(kind, name, group, description, computation, source, api, clock=clock), values)


# (event type, camelCase name in the document or None, noun)
_COUNTED = (
    ("email_open", "emailOpenCount", "email opens"),
    ("email_click", "emailClickCount", "email clicks"),
    ("page_view", "pageViewCount", "page views"),
    ("form_submit", "formSubmitCount", "form submissions"),
    ("meeting", "meetingCount", "meetings"),
    ("call", "callCount", "calls"),
    ("email_reply", None, "email replies"),
    ("demo", None, "demos"),
    ("email_sent", None, "emails sent to the lead"),
)


def add_lead_activity(
    out: FeatureSet, streams: EventStreams, entities: Entities, rows: Rows
) -> None:
    code, t = rows.code, rows.t
    created = entities.created[code]
    age = np.where(created != NO_START, np.maximum(t - created, 0) / US_PER_DAY, np.nan)
    counts = {name: streams.of(name).count_before(code, t).astype(float) for name, *_ in _COUNTED}
    for name, api, noun in _COUNTED:
        group = _BEH if api else _ENG
        _add(
            out,
            f"{name}_count",
            group,
            f"Number of {noun}",
            f"{name} events before t",
            counts[name],
            api=api,
        )
    activity = streams.activity()
    # Both windows in one query (a row each): one search of the activities.
    last30, last7 = activity.count_between(code, ago(t, 30, 7), t).astype(float)
    # (np.where, not np.nan_to_num: the same for an age, which is never infinite, at a
    # fraction of the cost.)
    span = np.clip(np.where(np.isnan(age), 30.0, age), 1.0, 30.0)
    _add(
        out,
        "activity_velocity",
        _BEH,
        "Activities per day over the last 30 days (or the lead's life if shorter)",
        "activities in [t - 30d, t) / min(30, max(1, age in days))",
        last30 / span,
        api="activityVelocity",
    )
    used = np.zeros(len(rows))
    for channel in sorted(CHANNEL_TYPES):
        used += streams.of(*CHANNEL_TYPES[channel]).count_before(code, t) > 0
    _add(
        out,
        "channel_diversity",
        _BEH,
        "Channels the lead has used (email, web, form, phone, meeting, product, support)",
        "number of channels with an activity before t",
        used,
        api="channelDiversity",
    )
    _add(
        out,
        "high_value_action_count",
        _BEH,
        "High-value actions",
        "form_submit, meeting, demo, email_reply and executive_meeting events before t",
        streams.of(*HIGH_VALUE_TYPES).count_before(code, t).astype(float),
        api="highValueActionCount",
    )
    _add(
        out,
        "total_activities",
        _BEH,
        "All activities of the lead",
        "events before t other than email_sent, ticket_resolved, payment_failed",
        activity.count_before(code, t).astype(float),
        api="totalActivities",
    )
    _add(
        out,
        "activities_7d",
        _BEH,
        "Activities in the last 7 days",
        "activities in [t - 7d, t)",
        last7,
    )
    _add(
        out,
        "activities_30d",
        _BEH,
        "Activities in the last 30 days",
        "activities in [t - 30d, t)",
        last30,
    )
    _add(
        out,
        "demo_meeting_14d",
        _ENG,
        "Demos and meetings in the last 14 days (a demo often precedes a close)",
        "demo and meeting events in [t - 14d, t)",
        streams.of("demo", "meeting").count_between(code, t - days(14), t).astype(float),
    )
    _add_temporal(out, streams, rows, age, last7)
    _add_engagement(out, streams, rows, counts)


def _shares(streams: EventStreams, rows: Rows) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Activities before t, and the shares of them on weekends and in business hours (UTC)."""
    total = streams.activity().count_before(rows.code, rows.t).astype(float)
    counts = [
        streams.activity_at(when).count_before(rows.code, rows.t)
        for when in ("weekend", "business")
    ]
    with np.errstate(divide="ignore", invalid="ignore"):
        return total, counts[0] / total, counts[1] / total


def _add_temporal(
    out: FeatureSet, streams: EventStreams, rows: Rows, age: FloatArray, last7: FloatArray
) -> None:
    code, t = rows.code, rows.t
    activity = streams.activity()
    _add(
        out,
        "days_since_created",
        _TEMP,
        "Days since the lead was created",
        "t minus created_at, in days",
        age,
        api="daysSinceCreated",
        source=Source.TIME,
        clock=True,
    )
    last = activity.last_time_before(code, t)
    since = np.where(last != NO_START, (t - last) / US_PER_DAY, np.nan)
    none = np.isnan(since)
    _add(
        out,
        "days_since_last_activity",
        _TEMP,
        "Days since the lead's last activity (missing when there is none)",
        "t minus the last activity before t, in days",
        since,
        api="daysSinceLastActivity",
        clock=True,
    )
    _add(
        out,
        "recency_score",
        _TEMP,
        "Recency of the last activity: 1 = just now, towards 0 = long ago or never",
        f"exp(-days_since_last_activity / {RECENCY_DAYS:g}); 0 without activity",
        np.where(none, 0.0, np.exp(-np.where(none, 0.0, since) / RECENCY_DAYS)),
        api="recencyScore",
        clock=True,
    )
    before = activity.count_between(code, t - days(35), t - days(7)).astype(float)
    _add(
        out,
        "activity_burst",
        _TEMP,
        "A burst of activity this week",
        "at least 3 activities in the last 7 days and more than twice the weekly average of "
        "the 28 days before",
        ((last7 >= 3) & (last7 > 2.0 * before / 4.0)).astype(float),
        api="activityBurst",
        kind=FeatureKind.BOOLEAN,
    )
    total, weekend, business = _shares(streams, rows)
    day = np.where(weekend > 0.5, "weekend", np.where(weekend < 0.15, "weekday", "mixed"))
    hours = np.where(
        business >= 0.7, "business_hours", np.where(business <= 0.3, "after_hours", "mixed")
    )
    _add(
        out,
        "day_pattern",
        _TEMP,
        "When in the week the lead is active: weekday, weekend, mixed or none",
        "share of activities before t on Saturday/Sunday (UTC): > 0.5 weekend, < 0.15 "
        "weekday, else mixed; none without activity",
        np.where(total > 0, day, "none").astype(object),
        api="dayPattern",
        kind=FeatureKind.CATEGORICAL,
    )
    _add(
        out,
        "time_pattern",
        _TEMP,
        "When in the day the lead is active: business_hours, after_hours, mixed or none",
        "share of activities before t between 09:00 and 18:00 UTC: >= 0.7 business_hours, "
        "<= 0.3 after_hours, else mixed; none without activity",
        np.where(total > 0, hours, "none").astype(object),
        api="timePattern",
        kind=FeatureKind.CATEGORICAL,
    )
    _add(
        out,
        "lead_age_weeks",
        _TEMP,
        "Lead age in whole weeks",
        "floor(days_since_created / 7)",
        np.floor(age / 7.0),
        api="leadAgeWeeks",
        source=Source.TIME,
        clock=True,
    )


def _add_engagement(
    out: FeatureSet, streams: EventStreams, rows: Rows, counts: dict[str, FloatArray]
) -> None:
    code, t = rows.code, rows.t
    weighted = np.zeros(len(rows))
    since_90d = t - days(90)
    for name, weight in ENGAGEMENT_WEIGHTS.items():
        weighted += weight * streams.of(name).count_between(code, since_90d, t)
    _add(
        out,
        "total_engagement_score",
        _ENG,
        "Engagement score 0-100",
        f"round(100 (1 - exp(-S / {ENGAGEMENT_SCALE:g}))) with S = {ENGAGEMENT_TERMS}, "
        "counted over [t - 90d, t)",
        np.round(100.0 * (1.0 - np.exp(-weighted / ENGAGEMENT_SCALE))),
        api="totalEngagementScore",
    )
    sent = counts["email_sent"]
    responded, delays = streams.email_responses()
    answered = responded.count_before(code, t).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = {
            name: np.where(sent > 0, np.minimum(values / sent, 1.0), np.nan)
            for name, values in (
                ("open", counts["email_open"]),
                ("click", counts["email_click"]),
                ("sequence", answered),
            )
        }
        total_delay = delays.sum_between(code, np.zeros(len(t), dtype=np.int64), t)
        avg_delay = np.where(answered > 0, total_delay / answered, np.nan)
    for label, api in (("open", "emailOpenRate"), ("click", "emailClickRate")):
        _add(
            out,
            f"email_{label}_rate",
            _ENG,
            f"Email {label}s per email sent",
            f"email_{label}_count / email_sent_count, capped at 1; missing without emails",
            rates[label],
            api=api,
        )
    _add(
        out,
        "sequence_engagement",
        _ENG,
        "Share of emails the lead responded to",
        "emails sent before t answered by an email_open or email_reply before the next send "
        "(and before t), over emails sent",
        rates["sequence"],
        api="sequenceEngagement",
    )
    _add(
        out,
        "avg_response_time",
        _ENG,
        "Average seconds from an email to the lead's response (missing without responses)",
        "mean seconds from email_sent to the first email_open/email_reply after it (before "
        "the next send), over responses before t",
        avg_delay,
        api="avgResponseTime",
    )
    last_send = streams.of("email_sent").last_time_before(code, t)
    last_reply = streams.of("email_reply").last_time_before(code, t)
    recent = (last_send != NO_START) & (t - last_send <= days(ACTIVE_SEQUENCE_DAYS))
    _add(
        out,
        "is_in_active_sequence",
        _ENG,
        "An email sequence is running",
        f"an email_sent in the {ACTIVE_SEQUENCE_DAYS} days before t with no email_reply after "
        "it (a reply ends a sequence)",
        (recent & (last_reply < last_send)).astype(float),
        api="isInActiveSequence",
        kind=FeatureKind.BOOLEAN,
    )
    _add(
        out,
        "current_sequence_step",
        _ENG,
        "Step of the latest email in its sequence (missing when emails carry no sequence_step)",
        "properties.sequence_step of the last email_sent before t",
        streams.last_sequence_step(code, t),
        api="currentSequenceStep",
    )
