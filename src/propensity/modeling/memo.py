"""Values derived from a model's own objects, kept while those objects live.

A model's specs, references and plans are built once per loaded artifact and never change,
but hashing them (tuples of dataclasses) costs as much as deriving from them. So derived
values are kept by the identity of the object they come from, with the object itself held
so that its id cannot be reused while the entry exists."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
LIMIT = 256


class IdentityMemo:
    """`get(source, build)`: build(source), computed once per source object."""

    def __init__(self, limit: int = LIMIT) -> None:
        self._entries: dict[int, tuple[Any, Any]] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def get(self, source: Any, build: Callable[[Any], T]) -> T:
        entry = self._entries.get(id(source))
        if entry is not None and entry[0] is source:
            value: T = entry[1]
            return value
        value = build(source)
        with self._lock:
            if len(self._entries) >= self._limit:
                self._entries.clear()
            self._entries[id(source)] = (source, value)
        return value
