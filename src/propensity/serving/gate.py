"""At most a few fresh scorings at once per process.

A fresh answer is about 6-9 ms of CPU and a short SQLite write. With a worker's 16 request
threads all scoring at once, each answer cost about a quarter more CPU (the threads trade the
GIL, and writers wait for SQLite's lock in back-off sleeps of up to 100 ms) and the slowest
took ten times the median (bench/RESULTS.md, "where the forced answer's CPU goes"). Requests
beyond the limit wait here for their turn instead of contending.

A request waits at most `WAIT_LIMIT` seconds, then scores anyway: a thread that already holds
SQLite's write lock and asks to score must not wait for one that waits for that lock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

WAIT_LIMIT = 2.0

_gates: dict[int, threading.Semaphore] = {}
_made = threading.Lock()


def _gate(limit: int) -> threading.Semaphore:
    gate = _gates.get(limit)
    if gate is None:
        with _made:
            gate = _gates.setdefault(limit, threading.Semaphore(limit))
    return gate


@contextmanager
def scoring_gate(limit: int) -> Iterator[None]:
    gate = _gate(limit)
    entered = gate.acquire(timeout=WAIT_LIMIT)
    try:
        yield
    finally:
        if entered:
            gate.release()
