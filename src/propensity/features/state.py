"""The online feature state: what scoring an entity needs of its events and health, kept as the
data arrives (ADR 0014).

Every feature reads an entity's history through a few questions per stream (windows.Stream): how
many events in [t - w, t) for windows up to LOOKBACK_DAYS, their summed value, how many before t
at all, the time and value of the last one before t. So an entity's state, computed at clock B,
keeps per stream:

- the items at or after the cutoff C = B - LOOKBACK_DAYS: the window edges (each leaves the
  windows as the clock passes it), and
- a summary of everything before C: how many, their summed value, the time and the value of the
  last one.

For any scoring time t >= B every window [t - w, t) starts at or after C, so the kept items
answer it and the summary answers the "ever before t" questions. Online, a stream is the kept
items plus one item standing for the summary (at the last time before C, carrying the summed
value) with its count corrected, and the feature code is the offline build's own, so the values
are the offline values (a windowed sum up to the rounding of a running sum, within 1e-9).

Which streams: whatever the feature code asks for. A state is built by running the feature
code over the entities' whole history (builder.compute_features at B) and keeping every stream it
derived (EventStreams caches each: event types, unions of types, activity, ticket openings and
closures, email responses, sequence steps), so a new feature's stream needs no list kept here.
A stream the state does not know is empty when the entity has no event of its types (any event
of the entity rebuilds its state), and otherwise the state is not used (StateMiss).

The stored form, and reading many entities' states at once, is features/state_codec.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from propensity.features.definitions import OUTBOUND_TYPES
from propensity.features.history import Events, Health
from propensity.features.streams import EventStreams
from propensity.features.windows import NO_START, US_PER_DAY, FloatArray, IntArray, Stream

if TYPE_CHECKING:
    from propensity.features.state_codec import StateColumns

# The farthest back any windowed feature looks from t (the longest window is 90 days; the
# margin keeps a new window of up to this length exact without rebuilding every state).
LOOKBACK_DAYS = 120
_KEY_SEP = "\x1f"
# The health history's part among an entity's stream parts (no stream key is empty).
HEALTH_KEY = ""


class StateMiss(Exception):
    """The stored state cannot answer this build exactly; read the history instead."""


@dataclass(frozen=True, kw_only=True)
class Part:
    """One stream (or the health history) of one entity, split at the cutoff."""

    time: IntArray  # items at or after the cutoff, sorted
    values: dict[str, FloatArray]  # per value name, aligned with `time`
    prefix_count: int
    prefix_time: int  # the last item before the cutoff, NO_START when none
    prefix_sum: dict[str, float]
    prefix_last: dict[str, float]


@dataclass(frozen=True, kw_only=True)
class EntityState:
    built_at_us: int
    # The stream keys the feature code asked for when the state was built (empty ones too).
    keys: frozenset[str]
    valued: frozenset[str]  # those of the keys whose streams carry values
    types: frozenset[str]  # the entity's own event types
    streams: dict[str, Part]  # non-empty streams only
    health: Part | None


def key_of(key: tuple[str, ...]) -> str:
    return _KEY_SEP.join(key)


def cutoff_of(built_at_us: int) -> int:
    return built_at_us - LOOKBACK_DAYS * US_PER_DAY


# Building ------------------------------------------------------------------------------------


def _split(
    time: IntArray,
    values: Mapping[str, FloatArray],
    start: int,
    cut: int,
    end: int,
) -> Part | None:
    if end <= start:
        return None
    prefix = cut - start
    return Part(
        time=time[cut:end].copy(),
        values={name: v[cut:end].copy() for name, v in values.items()},
        prefix_count=prefix,
        prefix_time=int(time[cut - 1]) if prefix else NO_START,
        prefix_sum={
            name: float(np.sum(np.nan_to_num(v[start:cut]))) if prefix else 0.0
            for name, v in values.items()
        },
        prefix_last={
            name: float(v[cut - 1]) if prefix else float("nan") for name, v in values.items()
        },
    )


def _parts_of(
    stream: Stream, values: Mapping[str, FloatArray], codes: IntArray, cutoff: int
) -> list[Part | None]:
    starts = stream.start(codes)
    ends = stream.start(codes + 1)
    cuts = stream.position(codes, np.full(len(codes), cutoff, dtype=np.int64))
    return [
        _split(stream.time, values, int(s), int(c), int(e))
        for s, c, e in zip(starts.tolist(), cuts.tolist(), ends.tolist(), strict=True)
    ]


def extract_states(
    *,
    streams: EventStreams,
    health: tuple[Stream, Mapping[str, FloatArray]] | None,
    codes: IntArray,
    built_at_us: int,
) -> list[EntityState]:
    """The states of the entities `codes` from a build that computed their features over their
    whole history (so `streams` holds every stream the feature code asked for)."""
    cutoff = cutoff_of(built_at_us)
    codes = np.asarray(codes, dtype=np.int64)
    cached = streams.derived()
    keys = frozenset(key_of(k) for k in cached)
    valued = frozenset(key_of(k) for k, stream in cached.items() if stream.value is not None)
    per_entity: list[dict[str, Part]] = [{} for _ in codes]
    for key, stream in cached.items():
        values = {"v": stream.value} if stream.value is not None else {}
        for i, part in enumerate(_parts_of(stream, values, codes, cutoff)):
            if part is not None:
                per_entity[i][key_of(key)] = part
    health_parts: list[Part | None] = [None] * len(codes)
    if health is not None:
        health_parts = _parts_of(health[0], health[1], codes, cutoff)
    types = streams.types_of(codes)
    return [
        EntityState(
            built_at_us=built_at_us,
            keys=keys,
            valued=valued,
            types=types[i],
            streams=per_entity[i],
            health=health_parts[i],
        )
        for i in range(len(codes))
    ]


# Reading -------------------------------------------------------------------------------------


class SummarizedStream(Stream):
    """A Stream over kept items where one item per entity stands for its summary (the first of
    the entity, before every kept one): counts "before t" add the rest of the summary."""

    def __init__(
        self,
        *,
        code: IntArray,
        time: IntArray,
        value: FloatArray | None,
        extra: IntArray,
        presorted: bool = False,
    ) -> None:
        super().__init__(code=code, time=time, value=value, presorted=presorted)
        # Per entity code: how many items the summary item stands for beyond itself (0 for an
        # entity without one).
        self._extra = extra

    def count_before(self, code: IntArray, t: IntArray) -> IntArray:
        base = super().count_before(code, t)
        # The summary item is the entity's first, so it is before t when any item is.
        out: IntArray = base + np.where(base > 0, self._extra[code], 0)
        return out


class OnlineStreams(EventStreams):
    """EventStreams answered from stored states instead of the events themselves."""

    def __init__(self, states: StateColumns, *, present_types: tuple[str, ...]) -> None:
        super().__init__(no_events(present_types))
        self._states = states
        self._empty: dict[bool, Stream] = {}

    def _lookup(self, key: tuple[str, ...]) -> Stream:
        if key in self._cache:
            return self._cache[key]
        name = key_of(key)
        for schema in self._states.distinct:
            if name not in schema.keys and _may_have(schema.types, key):
                raise StateMiss(f"the stored state has no stream {key}")
        if self._states.has_parts(name):
            stream = self._states.stream(name)
        else:  # a third of a one-entity build's streams: one empty stream serves them all
            valued = any(name in schema.valued for schema in self._states.distinct)
            if valued not in self._empty:
                self._empty[valued] = self._states.stream(name)
            stream = self._empty[valued]
        self._cache[key] = stream
        return stream

    def of(self, *types: str, with_values: bool = False) -> Stream:
        return self._lookup((*sorted(types), "+values" if with_values else ""))

    def activity(self) -> Stream:
        return self._lookup(("<activity>",))

    def activity_at(self, when: str) -> Stream:
        return self._lookup((f"<activity:{when}>",))

    def ticket_streams(self) -> tuple[Stream, Stream]:
        return self._lookup(("<tickets>",)), self._lookup(("<closures>",))

    def email_responses(self) -> tuple[Stream, Stream]:
        return self._lookup(("<responses>",)), self._lookup(("<delays>",))

    def last_sequence_step(self, code: IntArray, t: IntArray) -> FloatArray:
        return self._lookup(("<sequence_steps>",)).last_value_before(code, t)

    def types_of(self, codes: IntArray) -> list[frozenset[str]]:
        return self._states.types_of(codes)


def _may_have(own: frozenset[str], key: tuple[str, ...]) -> bool:
    """Whether an entity with events of the types `own` could have items in a stream its state
    does not know."""
    if not own:
        return False
    derived = [k for k in key if k.startswith("<")]
    if derived:
        if key == ("<activity>",) or key[0].startswith("<activity:"):
            return bool(own - set(OUTBOUND_TYPES))
        return True
    return bool(own.intersection(k for k in key if k and not k.startswith("+")))


@lru_cache(maxsize=256)
def no_events(present_types: tuple[str, ...]) -> Events:
    """An empty event table (immutable, so one per set of types serves every build)."""
    empty_i = np.zeros(0, dtype=np.int64)
    return Events(
        code=empty_i,
        time=empty_i,
        type_code=np.zeros(0, dtype=np.int32),
        type_names=(),
        value=np.zeros(0),
        ticket=np.zeros(0, dtype=object),
        sequence_step=np.zeros(0),
        present_types=present_types,
    )


def online_health(states: StateColumns, *, names: Sequence[str]) -> Health:
    """The entities' health snapshots as the states keep them: the summary as one snapshot (the
    last before the cutoff), then the kept ones."""
    code, time, scores = states.health(names)
    return Health(code=code, time=time, scores=scores)
