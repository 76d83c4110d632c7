"""The scoring lane: never more fresh scorings at once than the limit, requests that wait for a
slot scored together by key, a failed batch's waiters scored alone, and a waiter that waited
too long goes ahead rather than stall."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from propensity.serving import gate
from propensity.serving.gate import Lane
from tests.serving.lanes import hold_the_only_slot, run_while_held

NOW = datetime(2026, 6, 1, tzinfo=UTC)
# How long a test waits for its threads to get where it needs them.
WITHIN = 5.0


def _same(value: str) -> str:
    return value


class Recorder:
    """A work function that records each call's ids, clock and thread."""

    def __init__(self, *, fail_when: Callable[[list[int]], bool] | None = None) -> None:
        self.calls: list[tuple[list[int], datetime, str]] = []
        self.fail_when = fail_when
        self.lock = threading.Lock()

    def work(self, ids: list[int], at: datetime) -> dict[int, str]:
        with self.lock:
            self.calls.append((list(ids), at, threading.current_thread().name))
        if self.fail_when is not None and self.fail_when(ids):
            raise RuntimeError("batch failed")
        return {i: f"scored {i} by {threading.current_thread().name}" for i in ids}


def _asked_while_held(
    lane: Lane, recorder: Recorder, asks: list[tuple[Hashable | None, list[int], datetime]]
) -> dict[int, dict[int, str]]:
    """Each ask's answer, by its position, when all were asked while the slot was held."""
    answers: dict[int, dict[int, str]] = {}

    def asker(n: int, key: Hashable | None, ids: list[int], now: datetime) -> Callable[[], None]:
        def ask() -> None:
            answers[n] = lane.run(
                key=key, ids=ids, now=now, work=recorder.work, hand=_same, adopt=_same
            )

        return ask

    run_while_held(
        lane,
        [asker(n, *ask) for n, ask in enumerate(asks)],
        queued=sum(key is not None for key, _, _ in asks),
        within=WITHIN,
    )
    return answers


def test_never_more_than_the_limit_at_once() -> None:
    lane = Lane(3)
    running = 0
    most = 0
    lock = threading.Lock()

    def work(ids: list[int], at: datetime) -> dict[int, int]:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return {i: i for i in ids}

    def score(n: int) -> None:
        key = "shared" if n % 2 else None
        lane.run(key=key, ids=[n], now=NOW, work=work, hand=_same, adopt=_same)

    threads = [threading.Thread(target=score, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 3


def test_a_free_slot_scores_at_once_alone() -> None:
    recorder = Recorder()
    answer = Lane(1).run(key="k", ids=[7], now=NOW, work=recorder.work, hand=_same, adopt=_same)
    assert answer == {7: f"scored 7 by {threading.current_thread().name}"}
    assert [ids for ids, _, _ in recorder.calls] == [[7]]


def test_waiters_of_one_key_are_scored_together_and_each_gets_its_own_rows() -> None:
    lane = Lane(1)
    recorder = Recorder()
    later = NOW + timedelta(milliseconds=300)
    answers = _asked_while_held(
        lane,
        recorder,
        [("a", [1, 2], NOW), ("a", [3], later), ("b", [4], NOW), ("a", [2, 5], NOW)],
    )

    batches = sorted(sorted(ids) for ids, _, _ in recorder.calls)
    assert batches == [[1, 2, 3, 5], [4]]  # key a once (2 once), key b on its own
    together = next(call for call in recorder.calls if 1 in call[0])
    assert together[1] == later  # the newest clock of the batch: after every request came
    leader = together[2]
    assert set(answers[0]) == {1, 2} and set(answers[1]) == {3} and set(answers[3]) == {2, 5}
    assert answers[0][2] == answers[3][2] == f"scored 2 by {leader}"
    assert answers[2] == {4: f"scored 4 by {next(c[2] for c in recorder.calls if 4 in c[0])}"}


def test_a_waiter_of_a_failed_batch_scores_alone() -> None:
    lane = Lane(1)
    recorder = Recorder(fail_when=lambda ids: len(ids) > 1)
    errors: list[BaseException] = []
    answers: dict[int, dict[int, str]] = {}

    def ask(n: int) -> None:
        try:
            answers[n] = lane.run(
                key="k", ids=[n], now=NOW, work=recorder.work, hand=_same, adopt=_same
            )
        except RuntimeError as error:
            errors.append(error)

    run_while_held(lane, [partial(ask, n) for n in (1, 2, 3)], queued=3, within=WITHIN)
    # The leader's own request fails; the other two are then scored one by one.
    assert len(errors) == 1 and len(answers) == 2
    assert all(list(answer) == [n] for n, answer in answers.items())
    assert sorted(len(ids) for ids, _, _ in recorder.calls) == [1, 1, 3]


def test_waiters_whose_clocks_differ_are_not_scored_together() -> None:
    lane = Lane(1)
    recorder = Recorder()
    _asked_while_held(lane, recorder, [("k", [1], NOW), ("k", [2], NOW - timedelta(days=30))])
    assert sorted(ids for ids, _, _ in recorder.calls) == [[1], [2]]
    assert {ids[0]: at for ids, at, _ in recorder.calls} == {
        1: NOW,
        2: NOW - timedelta(days=30),
    }


def test_keyless_requests_are_never_scored_with_others() -> None:
    lane = Lane(1)
    recorder = Recorder()
    answers = _asked_while_held(lane, recorder, [(None, [1], NOW), (None, [2], NOW)])
    assert sorted(ids for ids, _, _ in recorder.calls) == [[1], [2]]
    assert {n: list(a) for n, a in answers.items()} == {0: [1], 1: [2]}


def test_a_waiter_goes_ahead_after_the_wait_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gate, "WAIT_LIMIT", 0.05)
    lane = Lane(1)
    holder, release = hold_the_only_slot(lane, within=WITHIN)
    recorder = Recorder()
    started = time.perf_counter()
    answer = lane.run(key="k", ids=[1], now=NOW, work=recorder.work, hand=_same, adopt=_same)
    waited = time.perf_counter() - started
    release.set()
    holder.join()
    assert 0.04 <= waited < 2
    assert list(answer) == [1]
    # Both slots are back: the next request finds the lane free.
    assert lane._busy == 0 and not lane._waiting


class Deadline(Exception):
    pass


def test_a_final_failure_of_a_batch_is_every_waiters_answer() -> None:
    lane = Lane(1)
    calls: list[list[int]] = []
    outcomes: dict[int, str] = {}

    def work(ids: list[int], at: datetime) -> dict[int, str]:
        calls.append(ids)
        raise Deadline(f"late for {ids}")

    def ask(n: int) -> None:
        try:
            lane.run(
                key="k", ids=[n], now=NOW, work=work, hand=_same, adopt=_same, final=(Deadline,)
            )
        except Deadline as error:
            outcomes[n] = str(error)

    run_while_held(lane, [partial(ask, n) for n in (1, 2, 3)], queued=3, within=WITHIN)
    assert len(calls) == 1 and sorted(calls[0]) == [1, 2, 3]  # nobody scored again
    assert sorted(outcomes) == [1, 2, 3] and len(set(outcomes.values())) == 1
