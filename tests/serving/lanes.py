"""Driving the scoring lane (serving/gate.py) from tests: a request holding its only slot,
and requests started while it does, freed once they wait."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from propensity.serving.gate import Lane


def hold_the_only_slot(lane: Lane, *, within: float) -> tuple[threading.Thread, threading.Event]:
    """A request holding the lane's one slot until the returned event is set."""
    held = threading.Event()
    release = threading.Event()

    def work(ids: list[int], at: datetime) -> dict[int, str]:
        held.set()
        release.wait(2 * within)
        return {i: "holder" for i in ids}

    thread = threading.Thread(
        target=lane.run,
        kwargs={
            "key": None,
            "ids": [0],
            "now": datetime.now(UTC),
            "work": work,
            "hand": lambda value: value,
            "adopt": lambda value: value,
        },
    )
    thread.start()
    assert held.wait(within)
    return thread, release


def run_while_held(
    lane: Lane, asks: Sequence[Callable[[], None]], *, queued: int, within: float
) -> None:
    """Runs each of `asks` in a thread of its own while another request holds the lane's only
    slot; frees the slot once `queued` of them wait under a key (and the keyless ones had a
    moment to wait too), and returns when every one is done."""
    holder, release = hold_the_only_slot(lane, within=within)
    threads = [threading.Thread(target=ask) for ask in asks]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + within
    while sum(len(queue) for queue in lane._waiting.values()) < queued:
        assert time.monotonic() < deadline, "the requests never queued for a slot"
        time.sleep(0.005)
    if queued < len(asks):
        time.sleep(0.02)  # the keyless ones are waiting for the slot too
    release.set()
    holder.join()
    for thread in threads:
        thread.join()
