"""Closed- and open-loop load for `bench/load.py`, bounded in time and in requests in flight.

Closed loop: N connections, each sending its next request as soon as the previous answer
is read, for T seconds after a warm-up: the maximum throughput at concurrency N.

Open loop: requests are scheduled at a fixed rate whatever the server does; each one waits
for a free connection (at most N in flight) and its latency runs from its scheduled send
time. A server that falls behind therefore shows its queueing in the latencies instead of
slowing the client down (coordinated omission).

Both stop at a hard limit. In the closed loop a request still in flight then is an error
(the server hung). In the open loop, requests not answered by then (still queued or in
flight: the server is slower than the arrival rate) are `unfinished` and count as infinitely
slow in the percentiles, so an overloaded server shows an infinite p99, never a flattering one.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from load_client import Request, connection

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Connections are opened one by one, this far apart. uvicorn's workers share one listening
# socket and a woken worker accepts every connection waiting, so 16 connections opened at
# once went 14 to one worker and 2 to the other: one core served, the other idled.
STAGGER = 0.05


@dataclass
class Result:
    seconds: float
    latencies: list[float] = field(default_factory=list)
    # Successful answers that arrived inside the measured window (throughput), whenever sent.
    completed: int = 0
    statuses: Counter[int] = field(default_factory=Counter)  # non-2xx, warm-up included
    errors: Counter[str] = field(default_factory=Counter)  # transport errors, time-outs
    sample: str = ""  # the first non-2xx body, to say what went wrong
    sent: int = 0
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    max_queue: int = 0
    unfinished: int = 0  # open loop: measured requests not answered by the hard limit
    spread: list[int] = field(default_factory=list)  # connections held by each server worker

    def record(self, status: int, body: bytes) -> None:
        if not 200 <= status < 300:
            self.statuses[status] += 1
            self.sample = self.sample or body[:300].decode("utf-8", "replace")

    @property
    def failures(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())


def process_tree_cpu(pid: int) -> float:
    """User + system CPU seconds of `pid` and its direct children (uvicorn's workers)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command name: state, ppid, ...; utime and stime are fields 14 and 15.
        if entry.name == str(pid) or fields[1] == str(pid):
            total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


async def closed_loop(
    *,
    base: str,
    client: str,
    requests: Sequence[Request],
    connections: int,
    warmup: float,
    duration: float,
    grace: float = 30.0,
) -> Result:
    result = Result(seconds=duration)
    rotation = itertools.cycle(requests)
    start = time.perf_counter()
    window_start, window_end = start + warmup, start + warmup + duration

    async def worker(index: int) -> None:
        conn = connection(client, base)
        await asyncio.sleep(index * STAGGER)
        try:
            while (sent_at := time.perf_counter()) < window_end:
                request = next(rotation)
                result.sent += 1
                try:
                    status, body = await conn.send(request)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    result.errors[type(exc).__name__] += 1
                    continue
                done = time.perf_counter()
                result.record(status, body)
                if 200 <= status < 300:
                    result.completed += window_start <= done <= window_end
                    if sent_at >= window_start:
                        result.latencies.append(done - sent_at)
        finally:
            await conn.close()

    tasks = [asyncio.ensure_future(worker(i)) for i in range(connections)]
    if hung := await _bounded(tasks, warmup + duration + grace):
        result.errors["in flight at the hard limit"] += hung
    return result


async def prime(*, base: str, client: str, requests: Sequence[Request], connections: int) -> Result:
    """Sends every request once (untimed), e.g. so that a cached read finds its cache filled."""
    result = Result(seconds=0.0)
    pending = iter(requests)

    async def worker() -> None:
        conn = connection(client, base)
        try:
            for request in pending:
                result.sent += 1
                try:
                    result.record(*await conn.send(request))
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    result.errors[type(exc).__name__] += 1
        finally:
            await conn.close()

    tasks = [asyncio.ensure_future(worker()) for _ in range(connections)]
    if hung := await _bounded(tasks, 600.0):
        result.errors["in flight at the hard limit"] += hung
    return result


async def open_loop(
    *,
    base: str,
    client: str,
    requests: Sequence[Request],
    rate: float,
    connections: int,
    warmup: float,
    duration: float,
    drain: float = 10.0,
) -> Result:
    result = Result(seconds=duration)
    rotation = itertools.cycle(requests)
    queue: asyncio.Queue[tuple[float, Request, bool] | None] = asyncio.Queue()
    start = time.perf_counter() + 0.05
    window_start, window_end = start + warmup, start + warmup + duration
    busy = [0]  # requests sent and not yet answered

    async def dispatcher() -> None:
        for i in range(int((warmup + duration) * rate)):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            queue.put_nowait((scheduled, next(rotation), scheduled >= window_start))
            result.max_queue = max(result.max_queue, queue.qsize())
        for _ in range(connections):
            queue.put_nowait(None)

    async def worker(index: int) -> None:
        conn = connection(client, base)
        await asyncio.sleep(index * STAGGER)
        try:
            while (item := await queue.get()) is not None:
                scheduled, request, measured = item
                result.sent += 1
                busy[0] += 1  # not decremented when cancelled: it stays unfinished
                try:
                    status, body = await conn.send(request)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    busy[0] -= 1
                    result.errors[type(exc).__name__] += 1
                    continue
                busy[0] -= 1
                done = time.perf_counter()
                result.record(status, body)
                if 200 <= status < 300:
                    result.completed += window_start <= done <= window_end
                    if measured:
                        result.latencies.append(done - scheduled)
        finally:
            await conn.close()

    feeder = asyncio.ensure_future(dispatcher())
    workers = [asyncio.ensure_future(worker(i)) for i in range(connections)]
    await _bounded([feeder, *workers], warmup + duration + drain)
    queued = 0
    while not queue.empty():
        queued += queue.get_nowait() is not None
    result.unfinished = queued + busy[0]
    return result


def connections_per_worker(server_pid: int, port: int) -> dict[int, int]:
    """Established connections on `port` held by each worker of the server (from /proc); a
    worker is a child process holding the listening socket."""
    listening: set[str] = set()
    established: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) != port:
                    continue
                inode = f"socket:[{fields[9]}]"
                # TCP states in /proc/net/tcp: 01 established, 0A listening
                (established if fields[3] == "01" else listening).add(inode)
    counts: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] != str(server_pid):
                continue
            fds = list((entry / "fd").iterdir())
        except OSError:
            continue
        held = []
        for fd in fds:
            with contextlib.suppress(OSError):  # closed while we looked
                held.append(str(fd.readlink()))
        if listening.intersection(held):
            counts[int(entry.name)] = len(established.intersection(held))
    return counts


async def _bounded(tasks: Sequence[asyncio.Future[None]], limit: float) -> int:
    """Waits at most `limit` seconds, then cancels; returns how many tasks were cancelled."""
    _done, pending = await asyncio.wait(tasks, timeout=limit)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    for task in tasks:
        if not task.cancelled() and (exc := task.exception()) is not None:
            raise exc
    return len(pending)
