"""Event and time features of customers (B2B accounts and B2C subscribers) at snapshot times.

Everything is computed from events stamped strictly before each row's t.
"""

from __future__ import annotations

import numpy as np

from propensity.features.attributes import Rows
from propensity.features.definitions import (
    CHANNELS,
    HIGH_VALUE_TYPES,
    KNOWN_EVENT_TYPES,
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
    ("at least this long"), NaN when that is unknown too."""
    since = np.where(last != NO_START, last, created[rows.code])
    out = np.full(len(rows), np.nan)
    known = since != NO_START
    out[known] = np.maximum(rows.t[known] - since[known], 0) / US_PER_DAY
    return out


def _window_features(out: FeatureSet, streams: EventStreams, rows: Rows, event_type: str) -> None:
    noun = KNOWN_EVENT_TYPES[event_type]
    group = group_of_event_type(event_type)
    code, t = rows.code, rows.t
    if event_type == "watch":
        stream = streams.of("watch", with_values=True)
        for w in WINDOWS:
            out.add(
                numeric(
                    f"watch_hours_{w}d",
                    FeatureGroup.BEHAVIORAL,
                    f"Hours watched in the {w} days before the snapshot",
                    f"sum of watch values stamped in [t - {w}d, t)",
                    _E,
                ),
                stream.sum_between(code, t - days(w), t),
            )
        return
    stream = streams.of(event_type, with_values=event_type == "purchase")
    for w in WINDOWS:
        out.add(
            numeric(
                f"{event_type}_{w}d",
                group,
                f"Number of {noun} in the {w} days before the snapshot",
                f"count of {event_type} events in [t - {w}d, t)",
                _E,
            ),
            stream.count_between(code, t - days(w), t).astype(float),
        )
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


def _trend(out: FeatureSet, streams: EventStreams, rows: Rows, event_type: str) -> None:
    code, t = rows.code, rows.t
    if event_type == "watch":
        stream = streams.of("watch", with_values=True)
        recent = stream.sum_between(code, t - days(30), t)
        earlier = stream.sum_between(code, t - days(90), t - days(30))
        what = "hours watched"
    else:
        stream = streams.of(event_type)
        recent = stream.count_between(code, t - days(30), t).astype(float)
        earlier = stream.count_between(code, t - days(90), t - days(30)).astype(float)
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
    for event_type in known:
        _window_features(out, streams, rows, event_type)
        out.add(
            numeric(
                f"days_since_{event_type}",
                FeatureGroup.TEMPORAL,
                f"Days since the last of the {KNOWN_EVENT_TYPES[event_type]}",
                f"t minus the last {event_type} before t, in days; with none, days since "
                "created_at",
                _E,
                clock=True,
            ),
            recency_days(streams.of(event_type).last_time_before(code, t), rows, entities.created),
        )
    for event_type in TREND_TYPES:
        if streams.has(event_type):
            _trend(out, streams, rows, event_type)
    for other in streams.other_types():
        stream = streams.of(other)
        name = f"event_{safe_name(other)}"
        for w in (30, 90):
            out.add(
                numeric(
                    f"{name}_{w}d",
                    FeatureGroup.BEHAVIORAL,
                    f"Number of '{other}' events in the {w} days before the snapshot",
                    f"count of {other} events in [t - {w}d, t)",
                    _E,
                ),
                stream.count_between(code, t - days(w), t).astype(float),
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
    counts = {w: activity.count_between(code, t - days(w), t).astype(float) for w in WINDOWS}
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
    earlier = activity.count_between(code, t - days(90), t - days(30)).astype(float)
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
            types = [n for n, c in CHANNELS.items() if c == channel]
            used += streams.of(*types).count_between(code, t - days(90), t) > 0
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
            streams.of(*high_value).count_between(code, t - days(90), t).astype(float),
        )


def _email_rates(out: FeatureSet, streams: EventStreams, rows: Rows) -> None:
    code, t = rows.code, rows.t
    sent = streams.of("email_sent").count_between(code, t - days(90), t).astype(float)
    for event_type, label in (
        ("email_open", "open"),
        ("email_click", "click"),
        ("email_reply", "reply"),
    ):
        if not streams.has(event_type):
            continue
        count = streams.of(event_type).count_between(code, t - days(90), t)
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
    best = np.full(len(t), np.iinfo(np.int64).max)
    number = np.zeros(len(t), dtype=np.int64)
    for extra in range(4):
        k = np.maximum(guess + extra, 1)
        start = (month + 12 * k).astype("datetime64[us]")
        end = (month + 12 * k + 1).astype("datetime64[us]") - np.timedelta64(1, "D")
        day_of = np.minimum(start + offset, end + (offset % np.timedelta64(1, "D")))
        value = day_of.astype(np.int64)
        better = (value > t) & (value < best)
        best = np.where(better, value, best)
        number = np.where(better, k, number)
    return best, number
