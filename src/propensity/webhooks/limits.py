"""How many deliveries may be in flight at once, so webhooks never starve other work.

A delivery job waits on a receiver, for up to `webhook_deadline_seconds` per attempt, on a
consumer thread that training, batch scoring and the nightly jobs of every tenant share.
Within one worker process:

- a tenant has at most `webhook_concurrency_per_tenant` deliveries in flight (default 1), so
  one tenant's slow receiver or a loop of test pings holds at most that many threads;
- all deliveries together hold at most (consumer threads - 1) threads, so one thread is
  always free for other jobs (with a single thread, deliveries take turns with other jobs,
  each bounded by its deadline).

A delivery job that finds no free slot raises JobDeferred: its row goes back to `queued`
without counting an attempt and runs again after a short delay. The delay grows with the
number of delivery jobs queued (the tenant's own, when its own limit is what it waits for),
so a backlog behind a tarpit is re-checked a few times a second in all rather than once per
job per second, and is jittered, so waiting jobs do not come back together. The limits are
per process: with N worker processes a tenant can have up to N times its limit in flight.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from propensity.db import Database
from propensity.jobs import JobDeferred
from propensity.models import Job, JobStatus
from propensity.webhooks.events import DELIVER_JOB

MIN_DEFER_SECONDS = 1.0
MAX_DEFER_SECONDS = 120.0
# Seconds of delay per queued delivery job: about this many re-checks per second in all.
DEFER_SECONDS_PER_QUEUED = 0.25


def delivery_threads(consumer_threads: int) -> int:
    """How many of a consumer's threads deliveries may hold at once."""
    return max(1, consumer_threads - 1)


class DeliverySlots:
    """Counts the deliveries in flight in this process, per tenant and in all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_tenant: Counter[int] = Counter()
        self._total = 0

    def try_acquire(self, tenant_id: int, *, per_tenant: int, total: int) -> str | None:
        """Takes a slot for `tenant_id`; None when taken, else why not."""
        with self._lock:
            if self._by_tenant[tenant_id] >= per_tenant:
                return f"tenant {tenant_id} already has {per_tenant} delivery(ies) in flight"
            if self._total >= total:
                return f"all {total} delivery thread(s) of this worker are busy"
            self._by_tenant[tenant_id] += 1
            self._total += 1
            return None

    def release(self, tenant_id: int) -> None:
        with self._lock:
            self._by_tenant[tenant_id] -= 1
            if self._by_tenant[tenant_id] <= 0:
                del self._by_tenant[tenant_id]
            self._total -= 1

    def in_flight(self, tenant_id: int | None = None) -> int:
        with self._lock:
            return self._total if tenant_id is None else self._by_tenant[tenant_id]

    @contextmanager
    def slot(
        self,
        tenant_id: int,
        *,
        per_tenant: int,
        total: int,
        defer_seconds: float | None = None,
        database: Database | None = None,
    ) -> Iterator[None]:
        """Holds a slot for the block, or raises JobDeferred (delay: `defer_seconds`, else
        one that grows with the queued delivery jobs in `database`)."""
        refused = self.try_acquire(tenant_id, per_tenant=per_tenant, total=total)
        if refused is not None:
            if defer_seconds is None:
                # Waiting for its own tenant: that tenant's backlog sets the pace, so a
                # tarpit's backlog does not slow another tenant's waiting deliveries.
                own = self.in_flight(tenant_id) >= per_tenant
                queued = queued_deliveries(database, tenant_id if own else None) if database else 0
                defer_seconds = defer_delay(queued)
            raise JobDeferred(defer_seconds, refused)
        try:
            yield
        finally:
            self.release(tenant_id)


def queued_deliveries(database: Database, tenant_id: int | None = None) -> int:
    """Delivery jobs waiting in the queue (of one tenant, or of all)."""
    query = (
        sa.select(sa.func.count())
        .select_from(Job)
        .where(Job.status == JobStatus.QUEUED.value, Job.type == DELIVER_JOB)
    )
    if tenant_id is not None:
        query = query.where(Job.tenant_id == tenant_id)
    with database.system_session() as session:
        count = session.scalar(query)
    return int(count or 0)


def defer_delay(queued: int, *, rng: random.Random | None = None) -> float:
    """Seconds until a deferred delivery job is tried again, with +-25 % jitter."""
    base = min(MAX_DEFER_SECONDS, max(MIN_DEFER_SECONDS, DEFER_SECONDS_PER_QUEUED * queued))
    return base * (rng or random).uniform(0.75, 1.25)


# The process's slots: every consumer thread of a worker process shares them.
SLOTS = DeliverySlots()
