"""At most a few fresh scorings at once per process, and the requests that wait for one
scored together.

A fresh answer for one entity costs about 6-9 ms of CPU, nearly all of it fixed costs that do
not grow with the number of entities scored at once (building a frame, calling the model,
one INSERT, one commit): in-process, a forced churn answer costs 8-9 ms alone, 2.4-2.8 ms each
in fours and 1.8 ms each in eights (bench/RESULTS.md, "waiting requests scored together").

So a request that finds a free slot scores at once, alone: nothing waits for company. One that
arrives while every slot is busy waits under a key naming what it would score with (the
database, the tenant, the model version and its role). When a slot frees, the first waiter to
take it scores its own entities together with those of every waiter of the same key (up to
MAX_ENTITIES), records and commits them in its own session, and hands each waiter its rows;
a waiter whose leader failed scores alone. Each answer is still computed from the data at
the moment the batch starts, after its request arrived.

With 16 request threads all scoring at once, each answer also cost about a quarter more CPU
(the threads trade the GIL, and SQLite writers wait for each other's lock in back-off sleeps
of up to 100 ms), which is why the slots are few.

A request waits at most `WAIT_LIMIT` seconds for a slot, then scores anyway: a thread that
already holds SQLite's write lock must not wait for one that waits for that lock (and such a
request never waits for a leader: the caller gives it no key)."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

WAIT_LIMIT = 2.0
# Entities scored in one batch at most (well under the online build's limit of ids).
MAX_ENTITIES = 64
# Waiters are scored together only when their requests' clocks are this close: a caller
# asking for another time (a test's fixed clock) is not answered for the leader's.
SAME_TIME = timedelta(seconds=1)

Result = TypeVar("Result")
Handed = TypeVar("Handed")


@dataclass(eq=False)
class _Ticket(Generic[Handed]):
    key: Hashable | None
    ids: list[int]
    now: datetime
    taken: bool = False
    done: threading.Event = field(default_factory=threading.Event)
    # Set by the leader for a waiter it scored; None after done means the batch failed.
    handed: dict[int, Handed] | None = None
    # The batch's failure when it is every member's answer (`final` in Lane.run).
    error: BaseException | None = None


class Lane:
    """The scoring slots of one process for one limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._changed = threading.Condition()
        self._busy = 0
        self._waiting: dict[Hashable, list[_Ticket[Any]]] = {}

    def run(
        self,
        *,
        key: Hashable | None,
        ids: list[int],
        now: datetime,
        work: Callable[[list[int], datetime], dict[int, Result]],
        hand: Callable[[Result], Handed],
        adopt: Callable[[Handed], Result],
        final: tuple[type[BaseException], ...] = (),
    ) -> dict[int, Result]:
        """`work(ids, now)` for these ids, perhaps with other waiters' of the same `key`
        (None: never shared). It runs in the thread of the request that leads the batch;
        `hand` turns a result into what another thread may take (run in the leader's
        thread), `adopt` turns that into the waiter's own result (run in the waiter's).
        A failure of the batch that is one of `final` is every member's answer (a scoring
        deadline missed); after any other, each waiter scores alone."""
        ticket: _Ticket[Handed] = _Ticket(key, list(ids), now)
        batch = self._admit(ticket)
        if batch is None:
            ticket.done.wait()
            if ticket.error is not None:
                raise copy.copy(ticket.error)
            if ticket.handed is None:
                return self.run(key=None, ids=ids, now=now, work=work, hand=hand, adopt=adopt)
            return {i: adopt(value) for i, value in ticket.handed.items()}
        try:
            wanted = list(dict.fromkeys(i for member in batch for i in member.ids))
            results = work(wanted, max(member.now for member in batch))
            for member in batch[1:]:
                member.handed = {i: hand(results[i]) for i in member.ids if i in results}
        except final as error:
            for member in batch[1:]:
                member.error = error
            raise
        finally:
            with self._changed:
                self._busy -= 1
                self._changed.notify_all()
            # A waiter left without its rows scores alone (run, above).
            for member in batch[1:]:
                member.done.set()
        return {i: results[i] for i in ticket.ids if i in results}

    def _admit(self, ticket: _Ticket[Handed]) -> list[_Ticket[Handed]] | None:
        """The batch this ticket leads once it has a slot (itself first); None when a leader
        took it. Waits at most WAIT_LIMIT for a slot, then goes ahead over the limit."""
        with self._changed:
            if ticket.key is not None:
                self._waiting.setdefault(ticket.key, []).append(ticket)
            deadline = time.monotonic() + WAIT_LIMIT
            while not ticket.taken and self._busy >= self.limit:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            if ticket.taken:
                return None
            self._busy += 1
            return self._take(ticket)

    def _take(self, leader: _Ticket[Handed]) -> list[_Ticket[Handed]]:
        leader.taken = True
        if leader.key is None:
            return [leader]
        queue: list[_Ticket[Handed]] = self._waiting.pop(leader.key, [])
        batch = [leader]
        left: list[_Ticket[Handed]] = []
        count = len(leader.ids)
        for member in queue:
            if member is leader:
                continue
            close = abs(member.now - leader.now) <= SAME_TIME
            if close and count + len(member.ids) <= MAX_ENTITIES:
                member.taken = True
                batch.append(member)
                count += len(member.ids)
            else:
                left.append(member)
        if left:
            self._waiting[leader.key] = left
        return batch


_lanes: dict[int, Lane] = {}
_made = threading.Lock()


def scoring_lane(limit: int) -> Lane:
    """The process's lane for this many slots (one per configured limit)."""
    lane = _lanes.get(limit)
    if lane is None:
        with _made:
            lane = _lanes.setdefault(limit, Lane(limit))
    return lane
