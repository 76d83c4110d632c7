"""Streams over a loaded event table: one per event type (or group of types), plus the derived
series that need pairing (ticket closures, email responses). Built once per build and shared
by every feature that asks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from propensity.features.definitions import KNOWN_EVENT_TYPES, OUTBOUND_TYPES
from propensity.features.history import Events
from propensity.features.windows import NO_END, US_PER_DAY, FloatArray, IntArray, Stream

# Up to this many ticket events, tickets are paired in a plain loop (one entity's history):
# the pandas groupby below costs milliseconds of fixed overhead. Both give the same streams.
SMALL_TICKETS = 2000
# Event types beyond the known ones that get generic features, most frequent first.
MAX_OTHER_TYPES = 10


class EventStreams:
    def __init__(self, events: Events) -> None:
        self.events = events
        self._cache: dict[tuple[str, ...], Stream] = {}
        self._present = frozenset(events.present_types)

    @property
    def present(self) -> tuple[str, ...]:
        return self.events.present_types

    def has(self, *types: str) -> bool:
        return not self._present.isdisjoint(types)

    def of(self, *types: str, with_values: bool = False) -> Stream:
        key = (*sorted(types), "+values" if with_values else "")
        if key not in self._cache:
            ev = self.events
            mask = ev.mask(*types)
            self._cache[key] = Stream(
                code=ev.code[mask],
                time=ev.time[mask],
                value=ev.value[mask] if with_values else None,
            )
        return self._cache[key]

    def derived(self) -> dict[tuple[str, ...], Stream]:
        """Every stream built so far, by key (features/state.py keeps them)."""
        return dict(self._cache)

    def types_of(self, codes: IntArray) -> list[frozenset[str]]:
        """The event types each entity has (any time)."""
        ev = self.events
        if not len(ev):
            return [frozenset() for _ in codes]
        width = np.int64(len(ev.type_names) + 1)
        pairs = np.unique(ev.code * width + ev.type_code)
        by_code: dict[int, set[str]] = {}
        for code, type_code in zip(
            (pairs // width).tolist(), (pairs % width).tolist(), strict=True
        ):
            by_code.setdefault(code, set()).add(ev.type_names[type_code])
        return [frozenset(by_code.get(int(c), ())) for c in codes]

    def activity(self) -> Stream:
        """Everything the customer or lead did: every type except what the company sends."""
        key = ("<activity>",)
        if key not in self._cache:
            ev = self.events
            outbound = ev.mask(*OUTBOUND_TYPES)
            self._cache[key] = Stream(code=ev.code[~outbound], time=ev.time[~outbound])
        return self._cache[key]

    def other_types(self) -> list[str]:
        """Imported event types the builder has no name for, most frequent first."""
        ev = self.events
        counts = np.bincount(ev.type_code, minlength=len(ev.type_names))
        others = [
            (int(counts[i]), name)
            for i, name in enumerate(ev.type_names)
            if name not in KNOWN_EVENT_TYPES and name in ev.present_types
        ]
        missing = [
            name
            for name in ev.present_types
            if name not in KNOWN_EVENT_TYPES and name not in ev.type_names
        ]
        ranked = [name for _, name in sorted(others, key=lambda p: (-p[0], p[1]))] + sorted(missing)
        return ranked[:MAX_OTHER_TYPES]

    def ticket_streams(self) -> tuple[Stream, Stream]:
        """(openings, closures): a ticket counts as open at t when its opening is before t and
        its closure is not. Tickets are matched by `ticket_id`; a ticket opened twice counts
        once; a resolution of a ticket never seen opening is ignored. Events without an id are
        matched by count (each resolution closes one ticket)."""
        key = ("<tickets>",)
        if key in self._cache:
            return self._cache[key], self._cache[("<closures>",)]
        ev = self.events
        opened = ev.mask("ticket_opened")
        resolved = ev.mask("ticket_resolved")
        if int(np.count_nonzero(opened | resolved)) <= SMALL_TICKETS:
            openings, closures = _ticket_streams_small(
                ev.code, ev.time, ev.ticket, opened, resolved
            )
            self._cache[key], self._cache[("<closures>",)] = openings, closures
            return openings, closures
        frame = pd.DataFrame(
            {
                "code": ev.code,
                "time": ev.time,
                "ticket": ev.ticket,
                "open": opened,
            }
        )[opened | resolved]
        with_id = frame[frame["ticket"].notna()]
        firsts = (
            with_id.groupby(["code", "ticket", "open"], sort=False)["time"]
            .min()
            .unstack()
            .reindex(columns=[True, False])
        )
        first_open, first_close = firsts[True], firsts[False]
        matched = first_open.notna()
        open_codes = firsts.index.get_level_values("code").to_numpy()[matched.to_numpy()]
        open_times = first_open[matched].to_numpy(dtype=np.int64)
        closed = (matched & first_close.notna()).to_numpy()
        close_codes = firsts.index.get_level_values("code").to_numpy()[closed]
        close_times = np.maximum(
            first_open.to_numpy()[closed], first_close.to_numpy()[closed]
        ).astype(np.int64)
        no_id = frame[frame["ticket"].isna()]
        no_id_open = no_id[no_id["open"]]
        no_id_close = no_id[~no_id["open"]]
        openings = Stream(
            code=np.concatenate([open_codes, no_id_open["code"].to_numpy()]).astype(np.int64),
            time=np.concatenate([open_times, no_id_open["time"].to_numpy()]).astype(np.int64),
        )
        closures = Stream(
            code=np.concatenate([close_codes, no_id_close["code"].to_numpy()]).astype(np.int64),
            time=np.concatenate([close_times, no_id_close["time"].to_numpy()]).astype(np.int64),
        )
        self._cache[key], self._cache[("<closures>",)] = openings, closures
        return openings, closures

    def open_tickets(self, code: IntArray, t: IntArray) -> IntArray:
        openings, closures = self.ticket_streams()
        still_open: IntArray = np.maximum(
            openings.count_before(code, t) - closures.count_before(code, t), 0
        )
        return still_open

    def email_responses(self) -> tuple[Stream, Stream]:
        """(responded sends, response delays): each email_sent is answered by the first
        email_open or email_reply of the same entity after it and before the next email_sent.
        Both streams are stamped at the response time, so "responded before t" is a plain
        count; the second carries the delay in seconds as its value."""
        key = ("<responses>",)
        if key in self._cache:
            return self._cache[key], self._cache[("<delays>",)]
        sends = self.of("email_sent")
        answers = self.of("email_open", "email_reply")
        nxt, found = answers.first_at_or_after(sends.code, sends.time)
        # A response must come before the entity's next send (sends are sorted by entity, time).
        limit = np.full(len(sends), NO_END, dtype=np.int64)
        if len(sends) > 1:
            same = sends.code[1:] == sends.code[:-1]
            limit[:-1] = np.where(same, sends.time[1:], NO_END)
        answer_time = answers.time[nxt] if len(answers) else np.zeros(len(sends), dtype=np.int64)
        ok = found & (answer_time < limit)
        delay: FloatArray = (answer_time[ok] - sends.time[ok]) / 1e6
        responded = Stream(code=sends.code[ok], time=answer_time[ok])
        delays = Stream(code=sends.code[ok], time=answer_time[ok], value=delay)
        self._cache[key], self._cache[("<delays>",)] = responded, delays
        return responded, delays

    def last_sequence_step(self, code: IntArray, t: IntArray) -> FloatArray:
        """`properties.sequence_step` of the last email_sent before t (NaN when absent)."""
        key = ("<sequence_steps>",)
        if key not in self._cache:
            ev = self.events
            mask = ev.mask("email_sent")
            self._cache[key] = Stream(
                code=ev.code[mask], time=ev.time[mask], value=ev.sequence_step[mask]
            )
        return self._cache[key].last_value_before(code, t)

    def activity_at(self, when: str) -> Stream:
        """Activities on weekends (`when` = "weekend") or in business hours, 9:00-18:00 UTC
        ("business")."""
        key = (f"<activity:{when}>",)
        if key not in self._cache:
            activity = self.activity()
            if when == "weekend":
                day = activity.time // US_PER_DAY
                keep = (day + 3) % 7 >= 5  # 1970-01-01 was a Thursday; Monday = 0
            elif when == "business":
                hour = (activity.time // (3600 * 1_000_000)) % 24
                keep = (hour >= 9) & (hour < 18)
            else:
                raise ValueError(f"unknown part of the week: {when}")
            self._cache[key] = Stream(code=activity.code[keep], time=activity.time[keep])
        return self._cache[key]


def _ticket_streams_small(
    code: IntArray,
    time: IntArray,
    ticket: np.ndarray,
    opened: np.ndarray,
    resolved: np.ndarray,
) -> tuple[Stream, Stream]:
    """EventStreams.ticket_streams' rule in a loop (streams sort their input, so only the
    multiset of (code, time) matters)."""
    first_open: dict[tuple[int, object], int] = {}
    first_close: dict[tuple[int, object], int] = {}
    loose_open: tuple[list[int], list[int]] = ([], [])
    loose_close: tuple[list[int], list[int]] = ([], [])
    rows = np.flatnonzero(opened | resolved)
    for c, t, name, is_open in zip(
        code[rows].tolist(),
        time[rows].tolist(),
        ticket[rows].tolist(),
        opened[rows].tolist(),
        strict=True,
    ):
        if name is None or (isinstance(name, float) and name != name):
            target = loose_open if is_open else loose_close
            target[0].append(c)
            target[1].append(t)
            continue
        firsts = first_open if is_open else first_close
        key = (c, name)
        if key not in firsts or t < firsts[key]:
            firsts[key] = t
    open_codes = [k[0] for k in first_open] + loose_open[0]
    open_times = list(first_open.values()) + loose_open[1]
    closed = [k for k in first_open if k in first_close]
    close_codes = [k[0] for k in closed] + loose_close[0]
    close_times = [max(first_open[k], first_close[k]) for k in closed] + loose_close[1]
    return (
        Stream(
            code=np.asarray(open_codes, dtype=np.int64),
            time=np.asarray(open_times, dtype=np.int64),
        ),
        Stream(
            code=np.asarray(close_codes, dtype=np.int64),
            time=np.asarray(close_times, dtype=np.int64),
        ),
    )
