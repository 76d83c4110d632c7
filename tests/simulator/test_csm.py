"""The simulated CSMs who work the demo's past CTAs (simulator/csm.py, docs/simulator.md)."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

from propensity.simulator.csm import CANCEL_SHARE, OpenCta, work_ctas

START = datetime(2026, 1, 1, tzinfo=UTC)
END = START + timedelta(days=200)


def _ctas(n: int, priority: str, *, first_id: int = 1) -> list[OpenCta]:
    return [
        OpenCta(cta_id=first_id + i, priority=priority, created_at=START + timedelta(hours=i))
        for i in range(n)
    ]


def test_each_cta_is_picked_up_then_completed_or_cancelled_in_time_order() -> None:
    ctas = _ctas(300, "MEDIUM")
    changes = work_ctas(ctas, seed=3, end=END)
    assert work_ctas(ctas, seed=3, end=END) == changes
    by_cta: dict[int, list[tuple[str, datetime]]] = {}
    for change in changes:
        by_cta.setdefault(change.cta_id, []).append((change.status, change.at))
    created = {c.cta_id: c.created_at for c in ctas}
    for cta_id, steps in by_cta.items():
        assert steps[0][0] == "IN_PROGRESS" and len(steps) == 2
        assert steps[1][0] in {"COMPLETED", "CANCELLED"}
        assert created[cta_id] < steps[0][1] < steps[1][1] < END
    cancelled = sum(1 for steps in by_cta.values() if steps[1][0] == "CANCELLED")
    assert abs(cancelled / len(by_cta) - CANCEL_SHARE) < 0.06


def test_higher_priorities_are_resolved_sooner() -> None:
    ctas = _ctas(400, "HIGH") + _ctas(400, "LOW", first_id=1000)
    created = {c.cta_id: c.created_at for c in ctas}
    days: dict[bool, list[float]] = {True: [], False: []}
    for change in work_ctas(ctas, seed=1, end=END):
        if change.status == "COMPLETED":
            elapsed = (change.at - created[change.cta_id]).total_seconds() / 86400
            days[change.cta_id < 1000].append(elapsed)
    assert statistics.median(days[True]) < statistics.median(days[False])
    assert 3 < statistics.median(days[True]) < 5.5 and 8 < statistics.median(days[False]) < 14


def test_nothing_happens_at_or_after_now() -> None:
    recent = [OpenCta(cta_id=1, priority="LOW", created_at=END - timedelta(hours=1))]
    changes = work_ctas(recent, seed=0, end=END)
    assert all(c.at < END for c in changes)
    assert not any(c.status in {"COMPLETED", "CANCELLED"} for c in changes)
