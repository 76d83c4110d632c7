"""The in-process counters: fixed windows that end on time, dropped once ended, no threads."""

from __future__ import annotations

import threading
import time

from limits import parse
from limits.strategies import FixedWindowRateLimiter

from propensity.ratelimit_store import LocalStorage


def test_a_window_counts_until_it_ends_then_starts_again() -> None:
    storage = LocalStorage()
    assert storage.incr("k", 0.2) == 1
    assert storage.incr("k", 0.2, amount=2) == 3
    assert storage.get("k") == 3
    ends = storage.get_expiry("k")
    assert time.time() < ends <= time.time() + 0.2
    time.sleep(0.25)
    assert storage.get("k") == 0
    assert storage.incr("k", 0.2) == 1
    assert storage.get_expiry("k") > ends


def test_the_limiter_refuses_past_the_limit_and_reports_what_remains() -> None:
    limiter = FixedWindowRateLimiter(LocalStorage())
    item = parse("3/minute")
    assert [limiter.hit(item, "a") for _ in range(4)] == [True, True, True, False]
    assert limiter.get_window_stats(item, "a").remaining == 0
    assert limiter.get_window_stats(item, "b").remaining == 3


def test_ended_counters_are_dropped_and_live_ones_kept() -> None:
    storage = LocalStorage()
    storage.incr("live", 60)
    for n in range(LocalStorage.SWEEP_AT):
        storage.incr(f"old{n}", 0.01)
    time.sleep(0.05)
    storage.incr("trigger", 60)
    for n in range(LocalStorage.SWEEP_AT):
        storage.incr(f"new{n}", 60)
    assert storage.get("live") == 1
    assert storage.reset() == LocalStorage.SWEEP_AT + 2


def test_a_hit_starts_no_thread() -> None:
    storage = LocalStorage()
    before = threading.active_count()
    for n in range(100):
        storage.incr(f"k{n}", 0.001)
        time.sleep(0.002)
    assert threading.active_count() == before
