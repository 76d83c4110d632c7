"""Fresh scorings at once per process: never more than the limit, and a waiter that waited
too long goes ahead rather than stall."""

from __future__ import annotations

import threading
import time

import pytest

from propensity.serving import gate
from propensity.serving.gate import scoring_gate


def test_never_more_than_the_limit_at_once() -> None:
    running = 0
    most = 0
    lock = threading.Lock()

    def score() -> None:
        nonlocal running, most
        with scoring_gate(3):
            with lock:
                running += 1
                most = max(most, running)
            time.sleep(0.02)
            with lock:
                running -= 1

    threads = [threading.Thread(target=score) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 3


def test_a_waiter_goes_ahead_after_the_wait_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gate, "WAIT_LIMIT", 0.05)
    held = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with scoring_gate(1):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(5)
    started = time.perf_counter()
    with scoring_gate(1):
        waited = time.perf_counter() - started
    release.set()
    thread.join()
    assert 0.04 <= waited < 2
    # The holder's slot is back, and the one that went ahead did not take a second one.
    assert gate._gate(1).acquire(timeout=0.5)
    gate._gate(1).release()
