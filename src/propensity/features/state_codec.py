"""The stored form of the online feature states (features/state.py), decoded in bulk.

A state is encoded as

- 8 bytes: the format and the length of the schema;
- the schema, JSON padded to 8 bytes: the stream keys the feature code asked for, those that
  carry values, the entity's event types, the keys of its non-empty parts in order ("" for the
  health history) and the names of the health values;
- one fixed record per part (items kept, count before the cutoff, time, summed value and last
  value before it), then, with a health part, its summed and last value per name;
- the items: per part its times, then its values (one array per value name).

Entities share a few schemas, so a schema is parsed once per distinct text (`_SCHEMAS`), and
everything else is fixed-width and 8-byte aligned: `decode_many` joins the payloads of many
entities into one buffer and reads every record from it with array indexing, and a stream of
every entity is then gathered with a few array operations (`StateColumns.stream`), never a
Python step per entity and stream. Format 1 had a JSON header per entity, about 0.25 ms each
to decode: 25 s for 100,000 leads.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from propensity.features.state import HEALTH_KEY, EntityState, Part, StateMiss, SummarizedStream
from propensity.features.windows import BoolArray, FloatArray, IntArray, Stream
from propensity.lru import LruCache

FORMAT = 2
_HEAD = struct.Struct("<II")
_RECORD = np.dtype(
    [("n", "<i8"), ("count", "<i8"), ("time", "<i8"), ("sum", "<f8"), ("last", "<f8")]
)
_WORD = 8
_RECORD_WORDS = _RECORD.itemsize // _WORD


@dataclass(frozen=True, kw_only=True)
class Schema:
    keys: frozenset[str]
    valued: frozenset[str]
    types: frozenset[str]
    parts: tuple[str, ...]
    health: tuple[str, ...]  # the health values' names (empty without a health part)

    @cached_property
    def n_values(self) -> IntArray:
        """Value arrays per part, in order."""
        return np.asarray(
            [
                len(self.health) if key == HEALTH_KEY else int(key in self.valued)
                for key in self.parts
            ],
            dtype=np.int64,
        )

    @property
    def record_bytes(self) -> int:
        return len(self.parts) * _RECORD.itemsize + self.extra_words * _WORD

    @property
    def extra_words(self) -> int:
        return 2 * len(self.health) if HEALTH_KEY in self.parts else 0


_SCHEMAS: LruCache[bytes, Schema] = LruCache(4096)


def _schema_of(text: bytes) -> Schema:
    cached = _SCHEMAS.get(text)
    if cached is not None:
        return cached
    doc = json.loads(text)
    schema = Schema(
        keys=frozenset(doc["keys"]),
        valued=frozenset(doc["valued"]),
        types=frozenset(doc["types"]),
        parts=tuple(str(k) for k in doc["parts"]),
        health=tuple(str(n) for n in doc["health"]),
    )
    _SCHEMAS.put(bytes(text), schema)
    return schema


# Encoding ------------------------------------------------------------------------------------


def encode(state: EntityState) -> bytes:
    parts = sorted(state.streams.items())
    names: tuple[str, ...] = ()
    if state.health is not None:
        parts.append((HEALTH_KEY, state.health))
        names = tuple(sorted(state.health.values))
    text = json.dumps(
        {
            "keys": sorted(state.keys),
            "valued": sorted(state.valued),
            "types": sorted(state.types),
            "parts": [key for key, _ in parts],
            "health": list(names),
        },
        separators=(",", ":"),
    ).encode()
    text += b" " * (-len(text) % _WORD)  # the records start aligned
    records = np.zeros(len(parts), dtype=_RECORD)
    extras: list[float] = []
    items: list[bytes] = []
    for i, (key, part) in enumerate(parts):
        value_names = names if key == HEALTH_KEY else tuple(sorted(part.values))
        records[i] = (
            len(part.time),
            part.prefix_count,
            part.prefix_time,
            part.prefix_sum.get("v", 0.0),
            part.prefix_last.get("v", np.nan),
        )
        if key == HEALTH_KEY:
            extras.extend(part.prefix_sum.get(name, 0.0) for name in names)
            extras.extend(part.prefix_last.get(name, np.nan) for name in names)
        elif value_names not in ((), ("v",)) or (key in state.valued) != bool(value_names):
            raise ValueError(f"stream {key!r} carries values {value_names}")
        items.append(np.ascontiguousarray(part.time, dtype="<i8").tobytes())
        for name in value_names:
            items.append(np.ascontiguousarray(part.values[name], dtype="<f8").tobytes())
    return b"".join(
        [
            _HEAD.pack(FORMAT, len(text)),
            text,
            records.tobytes(),
            np.asarray(extras, dtype="<f8").tobytes(),
            *items,
        ]
    )


# Decoding ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Layout:
    """Some parts laid out as one stream (StateColumns._layout)."""

    codes: IntArray  # per item
    time: IntArray  # per item
    prefix_at: IntArray  # where the summary items are
    has: BoolArray  # per part: whether it has a summary item
    kept: IntArray  # where the kept items are
    n: IntArray  # per part: its kept items
    source: IntArray  # per kept item: its time's word in the buffer


class StateColumns:
    """The states of many entities (by entity code) as flat arrays: one row per part."""

    def __init__(
        self,
        *,
        codes: IntArray,
        distinct: Sequence[Schema],
        schema_of: IntArray,
        buffer: bytes,
        records_at: IntArray,
        ends_at: IntArray,
        built_at_us: IntArray,
    ) -> None:
        """`buffer` holds the entities' payloads; `records_at` and `ends_at` are the words
        where each one's records start and where the payload ends; entity i's schema is
        `distinct[schema_of[i]]`."""
        self.codes = codes  # per entity, ascending
        self.distinct: tuple[Schema, ...] = tuple(distinct)
        self.schema_of = schema_of
        self.built_at_us = built_at_us  # per entity
        self.n_codes = int(codes[-1]) + 1 if len(codes) else 0
        self._i8 = np.frombuffer(buffer, dtype="<i8").astype(np.int64, copy=False)
        self._f8 = np.frombuffer(buffer, dtype="<f8").astype(np.float64, copy=False)
        # Per distinct schema: its parts, their value counts, where its parts' rows start.
        n_parts = np.asarray([len(s.parts) for s in self.distinct], dtype=np.int64)
        schema_row = n_parts.cumsum() - n_parts
        per_entity = n_parts[schema_of]
        self._entity_of_part = np.arange(len(codes)).repeat(per_entity)
        self.part_code = codes[self._entity_of_part]
        first_part = per_entity.cumsum() - per_entity
        within = np.arange(len(self._entity_of_part)) - first_part[self._entity_of_part]
        record = records_at[self._entity_of_part] + _RECORD_WORDS * within
        self.n = self._i8[record]
        self.count = self._i8[record + 1]
        self.time = self._i8[record + 2]
        self.sum = self._f8[record + 3]
        self.last = self._f8[record + 4]
        # A part's row in the table of every distinct schema's parts.
        self._schema_part = schema_row[schema_of][self._entity_of_part] + within
        self.n_values = (
            np.concatenate([s.n_values for s in self.distinct])[self._schema_part]
            if self.distinct
            else np.zeros(0, np.int64)
        )
        # Health: each entity's first extra word (its sums, then its lasts, by name).
        self._extra_base = records_at + _RECORD_WORDS * per_entity
        extra_words = np.asarray([s.extra_words for s in self.distinct], dtype=np.int64)
        items_at = self._extra_base + (extra_words[schema_of] if len(codes) else 0)
        # Each part's items: its times, then its value arrays, one part after the other.
        sizes = self.n * (1 + self.n_values)
        if len(sizes) and int(sizes.min()) < 0:
            raise StateMiss("a stored state's record is damaged")
        ends = sizes.cumsum()
        self.offset = (
            items_at[self._entity_of_part]
            + (ends - sizes)
            - (ends - sizes)[first_part[self._entity_of_part]]
        )
        used = np.bincount(self._entity_of_part, weights=sizes, minlength=len(codes))
        if not bool((items_at + used.astype(np.int64) == ends_at).all()):
            raise StateMiss("a stored state's items do not match its records")

    def __len__(self) -> int:
        return len(self.codes)

    @cached_property
    def _by_key(self) -> dict[str, IntArray]:
        """The parts of each key, by entity code (the parts are in entity order)."""
        names: dict[str, int] = {}
        table = [names.setdefault(key, len(names)) for s in self.distinct for key in s.parts]
        if not names:
            return {}
        key_ids = np.asarray(table, dtype=np.int64)[self._schema_part]
        order = np.argsort(key_ids, kind="stable")
        counts = np.bincount(key_ids, minlength=len(names))
        ends = np.cumsum(counts)
        return {key: order[ends[i] - counts[i] : ends[i]] for key, i in names.items() if counts[i]}

    def has_parts(self, key: str) -> bool:
        return key in self._by_key

    def types_of(self, codes: IntArray) -> list[frozenset[str]]:
        by_code = dict(zip(self.codes.tolist(), self.schema_of.tolist(), strict=True))
        empty: frozenset[str] = frozenset()
        return [self.distinct[by_code[c]].types if c in by_code else empty for c in codes.tolist()]

    def _layout(self, sel: IntArray) -> _Layout:
        """The parts `sel` as one stream: each part's summary item (when it has one) before
        its kept items, with their times."""
        n = self.n[sel]
        has = self.count[sel] > 0
        sizes = n + has
        starts = np.cumsum(sizes) - sizes
        within = np.arange(int(n.sum()), dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
        layout = _Layout(
            codes=np.repeat(self.part_code[sel], sizes),
            time=np.empty(int(sizes.sum()), dtype=np.int64),
            prefix_at=starts[has],
            has=has,
            kept=np.repeat(starts + has, n) + within,
            n=n,
            source=np.repeat(self.offset[sel], n) + within,
        )
        layout.time[layout.prefix_at] = self.time[sel][has]
        layout.time[layout.kept] = self._i8[layout.source]
        return layout

    @cached_property
    def _valued(self) -> frozenset[str]:
        """The keys whose streams carry values (in any entity's state)."""
        return frozenset().union(*(s.valued for s in self.distinct))

    def stream(self, key: str) -> Stream:
        """Every entity's stream `key` as one Stream (empty entities have no part)."""
        sel = self._by_key.get(key)
        valued = key in self._valued
        if sel is None:  # no entity has items: no summary either
            empty = np.zeros(0, dtype=np.int64)
            return Stream(
                code=empty, time=empty, value=np.zeros(0) if valued else None, presorted=True
            )
        if len(sel) == 1:
            return self._part_stream(int(sel[0]), valued=valued)
        layout = self._layout(sel)
        has = layout.has
        extra = np.zeros(self.n_codes, dtype=np.int64)
        extra[self.part_code[sel][has]] = self.count[sel][has] - 1
        sums: FloatArray | None = None
        lasts: FloatArray | None = None
        if valued:
            sums = np.empty(len(layout.codes))
            lasts = np.empty(len(layout.codes))
            sums[layout.prefix_at] = self.sum[sel][has]
            lasts[layout.prefix_at] = self.last[sel][has]
            kept_values = self._values(sel, layout, 0)
            sums[layout.kept] = kept_values
            lasts[layout.kept] = kept_values
        return _summarized(layout.codes, layout.time, sums, lasts, extra)

    def _part_stream(self, i: int, *, valued: bool) -> Stream:
        """The stream of one part (each of a one-entity build's dozen or so): slices where
        `stream` gathers, which for one part costs several times as many array calls."""
        n, at, count = int(self.n[i]), int(self.offset[i]), int(self.count[i])
        code = int(self.part_code[i])
        kept = self._i8[at : at + n]
        values: FloatArray | None = None
        if valued:
            values = self._f8[at + n : at + 2 * n] if int(self.n_values[i]) else np.full(n, np.nan)
        if not count:
            # No summary item: the kept items are the whole stream (a SummarizedStream
            # without summaries counts the same).
            codes = np.full(n, code, dtype=np.int64)
            return Stream(code=codes, time=kept, value=values, presorted=True)
        time = np.concatenate((self.time[i : i + 1], kept))
        extra = np.zeros(self.n_codes, dtype=np.int64)
        extra[code] = count - 1
        sums: FloatArray | None = None
        lasts: FloatArray | None = None
        if values is not None:
            sums = np.concatenate((self.sum[i : i + 1], values))
            lasts = np.concatenate((self.last[i : i + 1], values))
        codes = np.full(n + 1, code, dtype=np.int64)
        return _summarized(codes, time, sums, lasts, extra)

    def _values(self, sel: IntArray, layout: _Layout, index: IntArray | int) -> FloatArray:
        """The kept items' value array `index` of each part (NaN where a part has none); an
        `index` of shape (k, parts) gives k rows, one per value array asked for."""
        n = layout.n
        index = np.broadcast_to(np.asarray(index, dtype=np.int64), np.shape(index)[:-1] + sel.shape)
        present = np.repeat((index >= 0) & (index < self.n_values[sel]), n, axis=-1)
        at = layout.source + np.repeat(n * (1 + index), n, axis=-1)
        out = np.full(present.shape, np.nan)
        out[present] = self._f8[at[present]]
        return out

    def health(self, names: Sequence[str]) -> tuple[IntArray, IntArray, dict[str, FloatArray]]:
        """(codes, times, values by name) of the health snapshots as the states keep them: the
        summary as one snapshot (the last before the cutoff), then the kept ones. Every name
        is read at once: one row per name of each index array."""
        sel = self._by_key.get(HEALTH_KEY, np.zeros(0, dtype=np.int64))
        layout = self._layout(sel)
        has = layout.has
        owners = self.schema_of[self._entity_of_part[sel]]
        base = self._extra_base[self._entity_of_part[sel]]
        width = np.asarray([len(s.health) for s in self.distinct], dtype=np.int64)[owners]
        # Per name and part: the name's position among the part's health values, -1 without.
        index = np.asarray(
            [
                [s.health.index(name) if name in s.health else -1 for s in self.distinct]
                for name in names
            ],
            dtype=np.int64,
        ).reshape(len(names), len(self.distinct))[:, owners]
        last_at = (base + width + index)[:, has]
        found = index[:, has] >= 0
        prefix = np.full(found.shape, np.nan)
        prefix[found] = self._f8[last_at[found]]
        values = np.empty((len(names), len(layout.codes)))
        values[:, layout.prefix_at] = prefix
        values[:, layout.kept] = self._values(sel, layout, index)
        return layout.codes, layout.time, dict(zip(names, values, strict=True))

    def entity_state(self, code: int) -> EntityState:
        """One entity's state as built (tests and inspection)."""
        at = int(np.searchsorted(self.codes, code))
        schema = self.distinct[int(self.schema_of[at])]
        parts = np.flatnonzero(self._entity_of_part == at)
        first = int(parts[0]) if len(parts) else 0
        streams: dict[str, Part] = {}
        health: Part | None = None
        for i in parts.tolist():
            key = schema.parts[i - first]
            n, offset = int(self.n[i]), int(self.offset[i])
            names = schema.health if key == HEALTH_KEY else (("v",) if key in schema.valued else ())
            values = {
                name: self._f8[offset + n * (1 + j) : offset + n * (2 + j)].copy()
                for j, name in enumerate(names)
            }
            if key == HEALTH_KEY:
                base, width = int(self._extra_base[at]), len(names)
                prefix_sum = {m: float(self._f8[base + j]) for j, m in enumerate(names)}
                prefix_last = {m: float(self._f8[base + width + j]) for j, m in enumerate(names)}
            else:
                prefix_sum = {"v": float(self.sum[i])} if names else {}
                prefix_last = {"v": float(self.last[i])} if names else {}
            part = Part(
                time=self._i8[offset : offset + n].copy(),
                values=values,
                prefix_count=int(self.count[i]),
                prefix_time=int(self.time[i]),
                prefix_sum=prefix_sum,
                prefix_last=prefix_last,
            )
            if key == HEALTH_KEY:
                health = part
            else:
                streams[key] = part
        return EntityState(
            built_at_us=int(self.built_at_us[at]),
            keys=schema.keys,
            valued=schema.valued,
            types=schema.types,
            streams=streams,
            health=health,
        )


def _summarized(
    codes: IntArray,
    time: IntArray,
    sums: FloatArray | None,
    lasts: FloatArray | None,
    extra: IntArray,
) -> Stream:
    stream = SummarizedStream(code=codes, time=time, value=sums, extra=extra, presorted=True)
    # The summary item carries the summed value for the running sums and the last value
    # before the cutoff for "the last value before t".
    stream.value = lasts
    return stream


def decode_many(rows: Iterable[tuple[int, int, bytes]]) -> StateColumns:
    """The states of (entity code, built at, payload) rows, in one set of arrays. StateMiss
    when any is of another format or damaged (the history is then read, and the next import or
    back-fill rewrites it)."""
    try:
        return _decode_many(sorted(rows, key=lambda row: row[0]))
    except (KeyError, TypeError, ValueError, struct.error) as exc:
        raise StateMiss(f"unreadable state: {exc}") from exc


def _decode_many(rows: Sequence[tuple[int, int, bytes]]) -> StateColumns:
    # (The arrays' own methods rather than the np.* functions throughout: the functions'
    # wrappers cost a microsecond or two each, which adds up for one entity's state.)
    payloads = [row[2] for row in rows]
    lengths = np.fromiter(map(len, payloads), dtype=np.int64, count=len(payloads))
    if len(lengths) and (int(lengths.min()) < _HEAD.size or bool((lengths % _WORD).any())):
        raise StateMiss("a stored state is cut short")
    buffer = b"".join(payloads)
    starts = (lengths.cumsum() - lengths) // _WORD
    heads = np.frombuffer(buffer, dtype="<u4").reshape(-1, 2)[starts] if len(starts) else None
    sizes = heads[:, 1].astype(np.int64) if heads is not None else np.zeros(0, np.int64)
    if heads is not None and bool((heads[:, 0] != FORMAT).any()):
        raise StateMiss(f"a stored state is not of format {FORMAT}")
    if bool((sizes % _WORD).any()) or bool((_HEAD.size + sizes > lengths).any()):
        raise StateMiss("a stored state's schema is damaged")
    # The one step per entity: its schema, parsed once per distinct text.
    known: dict[bytes, int] = {}
    distinct: list[Schema] = []
    schema_of: list[int] = []
    head = _HEAD.size
    for payload, size in zip(payloads, sizes.tolist(), strict=True):
        text = payload[head : head + size]
        index = known.get(text)
        if index is None:
            index = known[text] = len(distinct)
            distinct.append(_schema_of(text))
        schema_of.append(index)
    codes = np.asarray([row[0] for row in rows], dtype=np.int64)
    if len(codes) > 1 and not bool((codes[1:] > codes[:-1]).all()):
        raise StateMiss("two states for one entity")
    which = np.asarray(schema_of, dtype=np.int64)
    records_at = starts + (head + sizes) // _WORD
    ends_at = starts + lengths // _WORD
    fixed = np.asarray([s.record_bytes for s in distinct], dtype=np.int64) // _WORD
    if len(which) and bool((records_at + fixed[which] > ends_at).any()):
        raise StateMiss("a stored state is cut short")
    return StateColumns(
        codes=codes,
        distinct=distinct,
        schema_of=which,
        buffer=buffer,
        records_at=records_at,
        ends_at=ends_at,
        built_at_us=np.asarray([row[1] for row in rows], dtype=np.int64),
    )


def decode(payload: bytes, *, built_at_us: int) -> EntityState:
    """One state (tests and inspection); StateMiss when unreadable."""
    return decode_many([(0, built_at_us, payload)]).entity_state(0)
