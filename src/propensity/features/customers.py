"""Event and time features of customers (B2B accounts and B2C subscribers) at snapshot times.

Everything is computed from events stamped strictly before each row's t.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from propensity.features.attributes import Rows
from propensity.features.definitions import (
    CHANNEL_TYPES,
    CHANNELS,
    HIGH_VALUE_TYPES,
    KNOWN_EVENT_TYPES,
    FeatureDefinition,
    FeatureGroup,
    FeatureSet,
    Source,
    boolean,
    group_of_event_type,
    numeric,
    safe_name,
)
from propensity.features.loading import Entities
from propensity.features.streams import EventStreams
from propensity.features.windows import (
    NO_START,
    US_PER_DAY,
    FloatArray,
    IntArray,
    ago,
    days,
    log_ratio_trend,
    weekly_slope,
)

WINDOWS = (7, 30, 90)
# Types whose 30-day level against the previous 60 days is worth a trend feature.
TREND_TYPES = ("login", "feature_use", "page_view", "watch")
SLOPE_WEEKS = 12

_E = Source.EVENTS


def recency_days(last: IntArray, rows: Rows, created: IntArray) -> FloatArray:
    """Days from the last event before t to t; with none, days since the entity was created
    ("at least this long"), NaN when that is unknown too. `last` may be (k, n): the last
    events of k streams, answered together."""
    since = np.where(last != NO_START, last, created[rows.code])
    known = since != NO_START
    # Unknown ones are measured from t itself (nothing overflows), then made NaN.
    elapsed = np.maximum(rows.t - np.where(known, since, rows.t), 0) / US_PER_DAY
    out: FloatArray = np.where(known, elapsed, np.nan)
    return out


def _window_features(out: FeatureSet, streams: EventStreams, rows: Rows, event_type: str) -> None:
    code, t = rows.code, rows.t
    # Every window in one query (a row per window): one search of the stream for them all.
    starts = ago(t, *WINDOWS)
    if event_type == "watch":
        hours = streams.of("watch", with_values=True).sum_between(code, starts, t)
        for w, values in zip(WINDOWS, hours, strict=True):
            out.add(_window_definition(event_type, w), values)
        return
    stream = streams.of(event_type, with_values=event_type == "purchase")
    counts = stream.count_between(code, starts, t).astype(float)
    for w, values in zip(WINDOWS, counts, strict=True):
        out.add(_window_definition(event_type, w), values)
    if event_type == "purchase":
        out.add(
            numeric(
                "purchase_amount_90d",
                FeatureGroup.BEHAVIORAL,
                "Amount purchased in the 90 days before the snapshot",
                "sum of purchase values in [t - 90d, t)",
                _E,
            ),
            stream.sum_between(code, t - days(90), t),
        )


# The definitions of the per-type features, made once: they never change, and formatting
# their texts and looking them up took about 1.5 us per feature on every build (some 60 of a
# one-account build's features are these).
@cache
def _window_definition(event_type: str, w: int) -> FeatureDefinition:
    if event_type == "watch":
        return numeric(
            f"watch_hours_{w}d",
            FeatureGroup.BEHAVIORAL,
            f"Hours watched in the {w} days before the snapshot",
            f"sum of watch values stamped in [t - {w}d, t)",
            _E,
        )
    return numeric(
        f"{event_type}_{w}d",
        group_of_event_type(event_type),
        f"Number of {KNOWN_EVENT_TYPES[event_type]} in the {w} days before the snapshot",
        f"count of {event_type} events in [t - {w}d, t)",
        _E,
    )


@cache
def _days_since_definition(event_type: str) -> FeatureDefinition:
    return numeric(
        f"days_since_{event_type}",
        FeatureGroup.TEMPORAL,
        f"Days since the last of the {KNOWN_EVENT_TYPES[event_type]}",
        f"t minus the last {event_type} before t, in days; with none, days since created_at",
        _E,
        clock=True,
    )


def _trend(out: FeatureSet, streams: EventStreams, rows: Rows, event_type: str) -> None:
    code, t = rows.code, rows.t
    # The last 30 days and the 60 before them, as one query of two rows.
    lo, hi = ago(t, 30, 90), ago(t, 0, 30)
    if event_type == "watch":
        recent, earlier = streams.of("watch", with_values=True).sum_between(code, lo, hi)
        what = "hours watched"
    else:
        recent, earlier = streams.of(event_type).count_between(code, lo, hi).astype(float)
        what = f"{event_type} events"
    out.add(
        numeric(
            f"{event_type}_trend",
            FeatureGroup.BEHAVIORAL,
            f"Change in {what}: last 30 days against the 60 days before (log ratio)",
            f"ln((last 30d + 1) / (the 60 days before / 2 + 1)) of {what}; below 0 = declining",
            _E,
        ),
        log_ratio_trend(recent, earlier, earlier_periods=2.0),
    )


def add_event_features(
    out: FeatureSet, streams: EventStreams, entities: Entities, rows: Rows
) -> None:
    code, t = rows.code, rows.t
    known = [name for name in KNOWN_EVENT_TYPES if streams.has(name)]
    # Every type's days since its last event, in one computation (a row per type).
    last = [streams.of(event_type).last_time_before(code, t) for event_type in known]
    since = recency_days(
        np.asarray(last, dtype=np.int64).reshape(len(known), len(rows)), rows, entities.created
    )
    for event_type, days_since in zip(known, since, strict=True):
        _window_features(out, streams, rows, event_type)
        out.add(_days_since_definition(event_type), days_since)
    for event_type in TREND_TYPES:
        if streams.has(event_type):
            _trend(out, streams, rows, event_type)
    for other in streams.other_types():
        stream = streams.of(other)
        name = f"event_{safe_name(other)}"
        counts = stream.count_between(code, ago(t, 30, 90), t).astype(float)
        for w, values in zip((30, 90), counts, strict=True):
            out.add(
                numeric(
                    f"{name}_{w}d",
                    FeatureGroup.BEHAVIORAL,
                    f"Number of '{other}' events in the {w} days before the snapshot",
                    f"count of {other} events in [t - {w}d, t)",
                    _E,
                ),
                values,
            )
        out.add(
            numeric(
                f"days_since_{name}",
                FeatureGroup.TEMPORAL,
                f"Days since the last '{other}' event",
                f"t minus the last {other} before t, in days; with none, days since created_at",
                _E,
                clock=True,
            ),
            recency_days(stream.last_time_before(code, t), rows, entities.created),
        )
    if streams.present:
        _activity(out, streams, entities, rows)
    if streams.has("ticket_opened"):
        out.add(
            numeric(
                "open_tickets",
                FeatureGroup.BEHAVIORAL,
                "Support tickets open at the snapshot time",
                "ticket_opened before t without a ticket_resolved (same properties.ticket_id) "
                "before t",
                _E,
            ),
            streams.open_tickets(code, t).astype(float),
        )
    if streams.has("email_sent"):
        _email_rates(out, streams, rows)


def _activity(out: FeatureSet, streams: EventStreams, entities: Entities, rows: Rows) -> None:
    code, t = rows.code, rows.t
    activity = streams.activity()
    counts = dict(
        zip(WINDOWS, activity.count_between(code, ago(t, *WINDOWS), t).astype(float), strict=True)
    )
    since_90d = t - days(90)
    for w in WINDOWS:
        out.add(
            numeric(
                f"activity_{w}d",
                FeatureGroup.BEHAVIORAL,
                f"Activities (every event but those the company sends) in the {w} days before",
                f"count of events other than email_sent, ticket_resolved, payment_failed in "
                f"[t - {w}d, t)",
                _E,
            ),
            counts[w],
        )
    out.add(
        numeric(
            "days_since_activity",
            FeatureGroup.TEMPORAL,
            "Days since the last activity",
            "t minus the last activity before t, in days; with none, days since created_at",
            _E,
            clock=True,
        ),
        recency_days(activity.last_time_before(code, t), rows, entities.created),
    )
    out.add(
        numeric(
            "activity_per_day_30d",
            FeatureGroup.BEHAVIORAL,
            "Activity velocity: activities per day over the last 30 days",
            "activity_30d / 30",
            _E,
        ),
        counts[30] / 30.0,
    )
    earlier = activity.count_between(code, since_90d, t - days(30)).astype(float)
    out.add(
        numeric(
            "activity_trend",
            FeatureGroup.BEHAVIORAL,
            "Change in activity: last 30 days against the 60 days before (log ratio)",
            "ln((activity_30d + 1) / (activities in [t - 90d, t - 30d) / 2 + 1))",
            _E,
        ),
        log_ratio_trend(counts[30], earlier, earlier_periods=2.0),
    )
    out.add(
        numeric(
            f"activity_slope_{SLOPE_WEEKS}w",
            FeatureGroup.BEHAVIORAL,
            f"Least-squares slope of weekly activity over the last {SLOPE_WEEKS} weeks",
            f"slope of weekly activity counts over the {SLOPE_WEEKS} weeks before t "
            "(activities per week, per week)",
            _E,
        ),
        weekly_slope(activity, code, t, weeks=SLOPE_WEEKS),
    )
    channels = sorted({CHANNELS[n] for n in streams.present if n in CHANNELS})
    if channels:
        used = np.zeros(len(rows))
        for channel in channels:
            used += streams.of(*CHANNEL_TYPES[channel]).count_between(code, since_90d, t) > 0
        out.add(
            numeric(
                "channel_diversity_90d",
                FeatureGroup.ENGAGEMENT,
                "Channels used in the last 90 days (email, web, form, phone, meeting, product, "
                "support)",
                "number of channels with at least one activity in [t - 90d, t)",
                _E,
            ),
            used,
        )
    high_value = [n for n in HIGH_VALUE_TYPES if streams.has(n)]
    if high_value:
        out.add(
            numeric(
                "high_value_actions_90d",
                FeatureGroup.ENGAGEMENT,
                "High-value actions in the last 90 days",
                "count of form_submit, meeting, demo, email_reply, executive_meeting in "
                "[t - 90d, t)",
                _E,
            ),
            streams.of(*high_value).count_between(code, since_90d, t).astype(float),
        )


def _email_rates(out: FeatureSet, streams: EventStreams, rows: Rows) -> None:
    code, t = rows.code, rows.t
    since_90d = t - days(90)
    sent = streams.of("email_sent").count_between(code, since_90d, t).astype(float)
    for event_type, label in (
        ("email_open", "open"),
        ("email_click", "click"),
        ("email_reply", "reply"),
    ):
        if not streams.has(event_type):
            continue
        count = streams.of(event_type).count_between(code, since_90d, t)
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(sent > 0, np.minimum(count / sent, 1.0), np.nan)
        out.add(
            numeric(
                f"email_{label}_rate_90d",
                FeatureGroup.ENGAGEMENT,
                f"Email {label} rate over the last 90 days",
                f"{event_type} / email_sent in [t - 90d, t), capped at 1; missing when nothing "
                "was sent",
                _E,
            ),
            rate,
        )


def add_time_features(out: FeatureSet, entities: Entities, rows: Rows) -> None:
    created = entities.created[rows.code]
    known = created != NO_START
    tenure = np.full(len(rows), np.nan)
    tenure[known] = np.maximum(rows.t[known] - created[known], 0) / US_PER_DAY
    out.add(
        numeric(
            "tenure_days",
            FeatureGroup.TEMPORAL,
            "Days since the customer signed up",
            "t minus created_at, in days",
            Source.TIME,
            clock=True,
        ),
        tenure,
    )
    if entities.kind != "account":
        return
    next_renewal, number = next_anniversary(created, rows.t)
    days_to = np.full(len(rows), np.nan)
    days_to[known] = (next_renewal[known] - rows.t[known]) / US_PER_DAY
    out.add(
        numeric(
            "days_to_renewal",
            FeatureGroup.TEMPORAL,
            "Days to the next contract renewal",
            "days from t to the next anniversary of created_at after t (renewal_date describes "
            "only the latest contract, so it is not used)",
            Source.TIME,
            clock=True,
        ),
        days_to,
    )
    out.add(
        boolean(
            "first_renewal",
            FeatureGroup.TEMPORAL,
            "The next renewal is the first one",
            "the next anniversary of created_at after t is the first (tenure under a year)",
            Source.TIME,
            clock=True,
        ),
        np.where(known, (number == 1).astype(float), np.nan),
    )


def next_anniversary(created: IntArray, t: IntArray) -> tuple[IntArray, IntArray]:
    """The first anniversary of `created` strictly after t (a 29 February start renews on
    28 February in other years), and which anniversary it is (1 = first)."""
    safe = np.where(created == NO_START, t, created)
    stamp = safe.astype("datetime64[us]")
    month = stamp.astype("datetime64[M]")
    offset = stamp - month.astype("datetime64[us]")
    guess = np.floor((t - safe) / (365.2425 * US_PER_DAY)).astype(np.int64) - 1
    # Four candidate anniversaries per row (a row each), all computed at once.
    k = np.maximum(guess + np.arange(4)[:, np.newaxis], 1)
    start = (month + 12 * k).astype("datetime64[us]")
    end = (month + 12 * k + 1).astype("datetime64[us]") - np.timedelta64(1, "D")
    value = np.minimum(start + offset, end + (offset % np.timedelta64(1, "D"))).astype(np.int64)
    # The earliest candidate after t (the first of equal ones); none: the largest time, 0.
    never = np.iinfo(np.int64).max
    after = np.where(value > t, value, never)
    pick = after.argmin(axis=0)[np.newaxis]
    best = np.take_along_axis(after, pick, axis=0)[0]
    number = np.where(best < never, np.take_along_axis(k, pick, axis=0)[0], 0)
    return best, number
