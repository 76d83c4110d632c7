"""Snapshot times, the population alive at each, and labels from (t, t + horizon] only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from propensity.errors import InsufficientData
from propensity.features.attributes import Rows
from propensity.features.columns import missing
from propensity.features.history import Events, Health
from propensity.features.loading import Entities
from propensity.features.windows import NO_END, NO_START, US_PER_DAY, FloatArray, IntArray, days

# Window features look back 90 days; earlier snapshots would see truncated histories.
MIN_HISTORY_DAYS = 90


@dataclass(frozen=True, kw_only=True)
class DataRange:
    start: int | None  # earliest activity (event or health snapshot), else earliest creation
    end: int | None  # latest timestamp of any kind

    @classmethod
    def of(cls, entities: Entities, events: Events, health: Health | None) -> DataRange:
        activity = [a for a in (events.time, health.time if health else None) if a is not None]
        activity = [a for a in activity if len(a)]
        created = entities.created[entities.created != NO_START]
        ended = entities.ended[entities.ended != NO_END]
        everything = [*activity, created, ended]
        if entities.subject == "lead":
            for name in ("converted_at_us", "lost_at_us"):
                values = np.asarray(entities.columns[name], dtype=np.int64)
                everything.append(values[values != NO_END])
        stamps = [a for a in everything if len(a)]
        if not stamps:
            return cls(start=None, end=None)
        start_from = activity if activity else ([created] if len(created) else stamps)
        return cls(
            start=int(min(a.min() for a in start_from)),
            end=int(max(a.max() for a in stamps)),
        )


def snapshot_grid(
    *,
    start: int,
    end: int,
    horizon_days: int,
    every_days: int,
    max_snapshots: int,
) -> IntArray:
    """t_k = end - horizon - k * every, newest first in the loop, returned ascending.

    Snapshots keep MIN_HISTORY_DAYS of history before them where the data allows; with a
    shorter history only the newest snapshot is used, if any data precedes it."""
    newest = end - days(horizon_days)
    grid = [newest - k * days(every_days) for k in range(max(max_snapshots, 1))]
    full = [t for t in grid if t >= start + days(MIN_HISTORY_DAYS)]
    if full:
        return np.asarray(sorted(full), dtype=np.int64)
    if newest > start:
        return np.asarray([newest], dtype=np.int64)
    span = (end - start) / US_PER_DAY
    raise InsufficientData(
        f"The data covers {span:.0f} days; a {horizon_days}-day horizon needs a longer history.",
        details={"history_days": round(span, 1), "horizon_days": horizon_days},
    )


def alive(entities: Entities, t: int, *, customers_only: bool) -> np.ndarray:
    """Entity codes in the population at t: created before t, not yet churned (customers) or
    converted/lost (leads) at t; for account churn, CUSTOMER accounts only. A customer flagged
    churned without a date is left out: when it left is unknown."""
    ok = (entities.created < t) & (entities.ended > t)
    if entities.subject == "customer":
        flagged = np.array([v is True for v in entities.columns["churned"].tolist()], dtype=bool)
        ok &= ~(flagged & (entities.ended == NO_END))
        if customers_only:
            ok &= not_prospects(entities)
    return np.flatnonzero(ok).astype(np.int64)


def not_prospects(entities: Entities) -> np.ndarray:
    """Customers whose account_type is not PROSPECT (a trial, not a paying customer)."""
    return np.array(
        [v != "PROSPECT" for v in entities.columns["account_type"].tolist()], dtype=bool
    )


def population(entities: Entities, grid: IntArray, *, customers_only: bool) -> Rows:
    codes = [alive(entities, int(t), customers_only=customers_only) for t in grid]
    return Rows(
        code=np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64),
        t=np.concatenate(
            [np.full(len(c), t, dtype=np.int64) for c, t in zip(codes, grid, strict=True)]
        )
        if codes
        else np.zeros(0, dtype=np.int64),
    )


def event_in_horizon(stamps: IntArray, rows: Rows, horizon_days: int) -> np.ndarray:
    """1 where the entity's stamp falls in (t, t + horizon], else 0."""
    at = stamps[rows.code]
    hit = (at > rows.t) & (at <= rows.t + days(horizon_days)) & (at != NO_END)
    labels: np.ndarray = hit.astype(np.int8)
    return labels


def churn_labels(entities: Entities, rows: Rows, horizon_days: int) -> np.ndarray:
    return event_in_horizon(entities.ended, rows, horizon_days)


def conversion_labels(entities: Entities, rows: Rows, horizon_days: int) -> np.ndarray:
    converted = np.asarray(entities.columns["converted_at_us"], dtype=np.int64)
    return event_in_horizon(converted, rows, horizon_days)


def time_to_close(
    entities: Entities, rows: Rows, data_end: int
) -> tuple[FloatArray, np.ndarray, np.ndarray]:
    """(days from t to the outcome, converted, lost) per row. A lead that converted by the end
    of the data is observed at its conversion; one that did not is censored at min(lost_at,
    data_end). `lost` tells the two kinds of censoring apart: a lead closed lost by the end of
    the data will not close (it is no longer at risk of closing), while an open lead may still
    close later. The time-to-close model (modeling/cure.py) needs the difference: counted alike,
    lost leads read as "closes later" and stretch every interval."""
    converted = np.asarray(entities.columns["converted_at_us"], dtype=np.int64)[rows.code]
    lost_at = np.asarray(entities.columns["lost_at_us"], dtype=np.int64)[rows.code]
    observed = (converted != NO_END) & (converted <= data_end)
    lost = ~observed & (lost_at != NO_END) & (lost_at <= data_end)
    censor = np.minimum(lost_at, data_end)
    stop = np.where(observed, converted, censor)
    durations = (stop - rows.t) / US_PER_DAY
    return durations, observed, lost


def static_labels(entities: Entities, codes: IntArray) -> np.ndarray:
    flag = "churned" if entities.subject == "customer" else "converted"
    return np.asarray(entities.columns[flag], dtype=object)[codes].astype(bool).astype(np.int8)


def has_dated_outcomes(entities: Entities) -> bool:
    if entities.subject == "customer":
        return bool((entities.ended != NO_END).any())
    converted = np.asarray(entities.columns["converted_at_us"], dtype=np.int64)
    return bool((converted != NO_END).any())


def has_flag_outcomes(entities: Entities) -> bool:
    flag = "churned" if entities.subject == "customer" else "converted"
    return not missing(entities.columns[flag]).all()
