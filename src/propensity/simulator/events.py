"""Collects the events each generator emits and assembles the one ``events`` frame."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from propensity.simulator.config import Window

EVENT_TYPES = (
    "login",
    "page_view",
    "feature_use",
    "watch",
    "purchase",
    "payment_failed",
    "email_sent",
    "email_open",
    "email_click",
    "email_reply",
    "form_submit",
    "meeting",
    "call",
    "demo",
    "executive_meeting",
    "ticket_opened",
    "ticket_resolved",
)
EVENT_CONTRACT_COLUMNS = ("event_id", "customer_id", "lead_id", "type", "occurred_at", "value")
# Free-form properties: tickets carry ticket_id/severity/channel, meetings and calls a channel.
EVENT_EXTRA_COLUMNS = ("ticket_id", "severity", "channel")
# Emails sent to a lead carry their step in the lead's sales sequence (sequence_steps).
SEQUENCE_STEP = "sequence_step"
EVENT_COLUMNS = (*EVENT_CONTRACT_COLUMNS, *EVENT_EXTRA_COLUMNS, SEQUENCE_STEP)


@dataclass(frozen=True, kw_only=True)
class EventChunk:
    """Events of one type for one kind of owner, in epoch seconds (not yet sorted)."""

    owner: Literal["customer", "lead"]
    ids: np.ndarray  # external ids of all possible owners (object array)
    owner_index: np.ndarray  # int index into ids, one per event
    type: str
    seconds: np.ndarray  # int64 epoch seconds
    value: np.ndarray | None = None
    props: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {self.type!r}")
        n = len(self.seconds)
        if len(self.owner_index) != n or (self.value is not None and len(self.value) != n):
            raise ValueError(f"ragged event chunk for {self.type!r}")


def keep(chunk: EventChunk, mask: np.ndarray) -> EventChunk:
    """The events of ``chunk`` where ``mask`` holds."""
    return EventChunk(
        owner=chunk.owner,
        ids=chunk.ids,
        owner_index=chunk.owner_index[mask],
        type=chunk.type,
        seconds=chunk.seconds[mask],
        value=None if chunk.value is None else chunk.value[mask],
        props={k: v[mask] for k, v in chunk.props.items()},
    )


def assemble(*, chunks: Sequence[EventChunk], window: Window) -> pd.DataFrame:
    """One frame sorted by time (ties keep generation order), with sequential event ids."""
    n = sum(len(c.seconds) for c in chunks)
    seconds = np.concatenate([c.seconds for c in chunks]) if chunks else np.zeros(0, np.int64)
    if n and (seconds.max() >= window.end_seconds or seconds.min() < window.start_seconds):
        raise AssertionError("an event escaped the simulation window")
    order = np.argsort(seconds, kind="stable")

    customer = np.full(n, None, dtype=object)
    lead = np.full(n, None, dtype=object)
    types = np.empty(n, dtype=object)
    values = np.full(n, np.nan)
    props = {name: np.full(n, None, dtype=object) for name in EVENT_EXTRA_COLUMNS}
    pos = 0
    for c in chunks:
        sl = slice(pos, pos + len(c.seconds))
        target = customer if c.owner == "customer" else lead
        target[sl] = c.ids[c.owner_index]
        types[sl] = c.type
        if c.value is not None:
            values[sl] = c.value
        for name, arr in c.props.items():
            props[name][sl] = arr
        pos = sl.stop

    width = max(7, len(str(n)))
    frame = pd.DataFrame(
        {
            "event_id": pd.Series([f"evt_{i:0{width}d}" for i in range(1, n + 1)], dtype="str"),
            "customer_id": pd.Series(customer[order], dtype="str"),
            "lead_id": pd.Series(lead[order], dtype="str"),
            "type": pd.Series(types[order], dtype="str"),
            "occurred_at": pd.Series(
                seconds[order].astype("datetime64[s]").astype("datetime64[us]")
            ).dt.tz_localize("UTC"),
            "value": values[order],
        }
    )
    for name in EVENT_EXTRA_COLUMNS:
        frame[name] = pd.Series(props[name][order], dtype="str")
    frame[SEQUENCE_STEP] = sequence_steps(frame)
    return frame


def sequence_steps(frame: pd.DataFrame) -> pd.Series:
    """Each email_sent to a lead numbered within the lead's sales sequence (1, 2, ...), in time
    order; a reply from the lead ends its sequence, so the next email starts a new one at 1.
    NaN on every other event. `frame` is sorted by time."""
    steps = pd.Series(np.nan, index=frame.index, dtype="float64")
    lead_rows = frame["lead_id"].notna() & frame["type"].isin(("email_sent", "email_reply"))
    if not lead_rows.any():
        return steps
    emails = frame.loc[lead_rows, ["lead_id", "type"]]
    replies = (emails["type"] == "email_reply").astype("int64")
    # Replies up to each row: for a sent email, the number of sequences the lead ended before.
    sequence = replies.groupby(emails["lead_id"]).cumsum()
    sent = emails["type"] == "email_sent"
    step = emails[sent].groupby([emails.loc[sent, "lead_id"], sequence[sent]]).cumcount() + 1
    steps.loc[step.index] = step.astype("float64")
    return steps
