"""Rate-limit counters are exact and never fail when many threads count at once (the sync
endpoints of every surface run in a thread pool)."""

from __future__ import annotations

import threading

from fastapi import FastAPI
from starlette.requests import Request

from propensity.ratelimit import consume
from propensity.settings import Settings

THREADS = 8
HITS = 300


def test_concurrent_hits_are_all_counted_without_errors(settings: Settings) -> None:
    app = FastAPI()
    app.state.settings = settings.model_copy(update={"redis_url": None})
    request = Request({"type": "http", "app": app, "headers": [], "client": ("1.2.3.4", 1)})
    failures: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def hammer() -> None:
        start.wait()
        for _ in range(HITS):
            try:
                consume(request, scope="stress", limit="1000000/minute", key="k")
            except BaseException as exc:  # any failure is the finding
                failures.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    remaining = consume(request, scope="stress", limit="1000000/minute", key="k")
    assert remaining == 1_000_000 - THREADS * HITS - 1
