"""Rate limits hold across the worker processes of one machine without Redis: counters in
a file of their own (ratelimit_store.py), used by `propensity serve --workers N`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from limits import parse
from limits.strategies import FixedWindowRateLimiter

from propensity.ratelimit_store import SharedFileStorage
from propensity.settings import Settings
from tests.servers import serve


def test_two_storages_on_one_file_share_their_counters(tmp_path: Path) -> None:
    path = tmp_path / "limits.sqlite"
    first = FixedWindowRateLimiter(SharedFileStorage(path))
    second = FixedWindowRateLimiter(SharedFileStorage(path))
    item = parse("3/minute")
    assert [first.hit(item, "k"), second.hit(item, "k"), first.hit(item, "k")] == [True] * 3
    assert second.hit(item, "k") is False
    assert first.hit(item, "other") is True
    stats = second.get_window_stats(item, "k")
    assert stats.remaining == 0 and stats.reset_time > time.time()


@pytest.fixture
def two_workers(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    if not settings.is_sqlite:
        pytest.skip("one machine without Redis")
    home = tmp_path / "home"
    limited = {"PROPENSITY_RETAINSTREAM_RATE_LIMIT": "6/minute"}
    with serve(home, args=("--workers", "2", "--no-consumer"), env=limited) as url:
        yield url, home / "metrics"


def test_the_documented_limit_holds_across_two_workers(two_workers: tuple[str, Path]) -> None:
    url, metrics = two_workers

    def answering() -> set[str]:
        return {path.stem.rsplit("_", 1)[-1] for path in metrics.glob("*.db")}

    # Health checks (never limited) until both workers have answered: a fresh connection per
    # request spreads over them, so counted per worker the limit of 6 would let up to 12
    # through.
    for _ in range(300):
        if len(answering()) >= 2:
            break
        httpx.get(url + "/api/health", timeout=10)
    assert len(answering()) >= 2, "only one worker answered"
    statuses = [
        httpx.get(url + "/api/dashboard/metrics", timeout=10).status_code for _ in range(14)
    ]
    assert statuses.count(429) == 8, statuses
    assert all(s != 429 for s in statuses[:6])
