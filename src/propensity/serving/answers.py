"""Rendered answers kept per process, so that asking again for a stored answer costs no
database statement and no thread hop.

An answer is kept only when it was served from what was stored (find_valid's rule held),
stamped with the tenant's write signal read *before* the request read anything
(write_signal.py). It is served again while the signal reads the same (no commit has
written the tenant's data since, in any process), before the stored prediction's validity
ends, on the same UTC day (an answer's urgency counts days), and for at most `MAX_AGE`
(the bound on staleness should a signal be lost, e.g. Redis unreachable during a raise)."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta

from propensity.lru import LruCache
from propensity.write_signal import Stamp, WriteSignal

MAX_AGE = timedelta(minutes=5)
# About 2 KB each: a few tens of megabytes per worker at most.
LIMIT = 20_000


@dataclass(frozen=True)
class Answer:
    stamp: Stamp
    until: datetime
    body: bytes


@dataclass(frozen=True)
class Ticket:
    """What a request read before it read the data: where its answer would be kept, and the
    tenant's signal then (None: nothing may be kept)."""

    key: Hashable
    stamp: Stamp | None


class AnswerCache:
    def __init__(self, signal: WriteSignal, *, limit: int = LIMIT) -> None:
        self._signal = signal
        self._entries: LruCache[Hashable, Answer] = LruCache(limit)

    def ticket(self, *, tenant_id: int, key: Hashable) -> Ticket:
        return Ticket(key=(tenant_id, key), stamp=self._signal.read(tenant_id))

    def get(self, ticket: Ticket, *, now: datetime) -> bytes | None:
        """The kept answer, when it still holds."""
        if ticket.stamp is None:
            return None
        answer = self._entries.get(ticket.key)
        if answer is None or answer.stamp != ticket.stamp or now >= answer.until:
            return None
        return answer.body

    def put(self, ticket: Ticket, *, body: bytes, valid_until: datetime, now: datetime) -> None:
        if ticket.stamp is None:
            return
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), now.tzinfo)
        until = min(valid_until, midnight, now + MAX_AGE)
        if until > now:
            self._entries.put(ticket.key, Answer(stamp=ticket.stamp, until=until, body=body))

    def __len__(self) -> int:
        return len(self._entries)
