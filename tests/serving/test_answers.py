"""When a kept answer may be served again: same signal, before its validity, its day and its
maximum age end; never without a signal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from propensity.serving.answers import MAX_AGE, AnswerCache
from propensity.write_signal import FileSignal, Unreadable

NOON = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _cache(tmp_path: Path) -> tuple[AnswerCache, FileSignal]:
    signal = FileSignal(tmp_path / "w")
    return AnswerCache(signal), signal


def test_served_again_until_the_tenants_signal_changes(tmp_path: Path) -> None:
    cache, signal = _cache(tmp_path)
    ticket = cache.ticket(tenant_id=1, key=("CHURN", "5"))
    cache.put(ticket, body=b"{}", valid_until=NOON + timedelta(days=3), now=NOON)
    assert cache.get(cache.ticket(tenant_id=1, key=("CHURN", "5")), now=NOON) == b"{}"
    assert cache.get(cache.ticket(tenant_id=2, key=("CHURN", "5")), now=NOON) is None
    signal.raise_for(2)
    assert cache.get(cache.ticket(tenant_id=1, key=("CHURN", "5")), now=NOON) == b"{}"
    signal.raise_for(1)
    assert cache.get(cache.ticket(tenant_id=1, key=("CHURN", "5")), now=NOON) is None


def test_a_ticket_read_before_a_write_keeps_nothing_that_outlives_it(tmp_path: Path) -> None:
    cache, signal = _cache(tmp_path)
    ticket = cache.ticket(tenant_id=1, key="k")
    signal.raise_for(1)  # committed while the request was reading
    cache.put(ticket, body=b"old", valid_until=NOON + timedelta(days=1), now=NOON)
    assert cache.get(cache.ticket(tenant_id=1, key="k"), now=NOON) is None


def test_no_longer_than_its_validity_its_day_and_the_maximum_age(tmp_path: Path) -> None:
    cache, _ = _cache(tmp_path)
    ticket = cache.ticket(tenant_id=1, key="k")
    cache.put(ticket, body=b"x", valid_until=NOON + timedelta(minutes=1), now=NOON)
    assert cache.get(ticket, now=NOON + timedelta(seconds=59)) == b"x"
    assert cache.get(ticket, now=NOON + timedelta(minutes=1)) is None

    late = datetime(2026, 12, 6, 23, 59, 30, tzinfo=UTC)
    cache.put(ticket, body=b"y", valid_until=late + timedelta(days=2), now=late)
    assert cache.get(ticket, now=late + timedelta(seconds=29)) == b"y"
    assert cache.get(ticket, now=late + timedelta(seconds=30)) is None

    cache.put(ticket, body=b"z", valid_until=NOON + timedelta(days=2), now=NOON)
    assert cache.get(ticket, now=NOON + MAX_AGE - timedelta(seconds=1)) == b"z"
    assert cache.get(ticket, now=NOON + MAX_AGE) is None


def test_nothing_is_kept_or_served_without_a_signal() -> None:
    cache = AnswerCache(Unreadable())
    ticket = cache.ticket(tenant_id=1, key="k")
    cache.put(ticket, body=b"x", valid_until=NOON + timedelta(days=1), now=NOON)
    assert cache.get(ticket, now=NOON) is None
    assert len(cache) == 0
