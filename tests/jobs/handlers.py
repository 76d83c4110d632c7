"""Job handlers for the tests. Imported by the tests and, with `--import`, by worker
subprocesses, so they must not depend on test-process state except through params."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from propensity.db import Database
from propensity.jobs import (
    ChunkedJob,
    Job,
    JobCancelled,
    JobContext,
    JobResult,
    chunked_job_handler,
    job_handler,
)
from propensity.settings import Settings

# Test-process coordination: a gated handler waits here until the test opens its gate.
GATES: dict[str, threading.Event] = {}
SAW_CANCEL: set[str] = set()
PERIODIC_RUNS: list[str] = []


@job_handler("test.gated")
def gated(ctx: JobContext) -> dict[str, Any]:
    ctx.progress(1, total=2, stage="halfway")
    if not GATES[ctx.params["gate"]].wait(timeout=20):
        raise TimeoutError("the test never opened the gate")
    ctx.progress(2, stage="finishing")
    return {"echo": ctx.params.get("echo")}


@job_handler("test.sleepy")
def sleepy(ctx: JobContext) -> dict[str, Any]:
    steps = int(ctx.params["steps"])
    pause = float(ctx.params["step_seconds"] if ctx.attempt == 1 else ctx.params["retry_step"])
    for step in range(steps):
        ctx.progress(step, total=steps, stage="sleeping")
        time.sleep(pause)
    return {"steps": steps, "attempt": ctx.attempt}


@job_handler("test.cancellable")
def cancellable(ctx: JobContext) -> dict[str, Any]:
    try:
        for step in range(10_000):
            ctx.progress(step, total=10_000)
            time.sleep(0.02)
    except JobCancelled:
        SAW_CANCEL.add(ctx.job_id)
        raise
    return {"finished": True}


@job_handler("test.noop")
def noop(ctx: JobContext) -> dict[str, Any]:
    return {"ok": True}


@job_handler("test.boom")
def boom(ctx: JobContext) -> dict[str, Any]:
    raise ValueError("the input file has no 'customer_id' column")


@job_handler("test.flaky", retry_on_error=True)
def flaky(ctx: JobContext) -> dict[str, Any]:
    if ctx.attempt < 2:
        raise RuntimeError("the scoring service timed out")
    return {"attempt": ctx.attempt}


@job_handler("test.visible_jobs")
def visible_jobs(ctx: JobContext) -> dict[str, Any]:
    """What the handler's session can see: only its own tenant's rows."""
    with ctx.session() as session:
        ids = sorted(session.scalars(sa.select(Job.id)))
    return {"ids": ids}


@chunked_job_handler("test.sum")
class ChunkedSum(ChunkedJob):
    def plan(self, ctx: JobContext) -> Sequence[Mapping[str, Any]]:
        numbers: list[int] = ctx.params["numbers"]
        size = int(ctx.params["size"])
        return [
            {
                "numbers": numbers[start : start + size],
                "fail_once": start // size in ctx.params.get("fail_once", []),
                "always_fail": start // size in ctx.params.get("always_fail", []),
            }
            for start in range(0, len(numbers), size)
        ]

    def run_chunk(self, ctx: JobContext) -> JobResult:
        if ctx.params["always_fail"]:
            raise ValueError("this chunk's rows are corrupt")
        if ctx.params["fail_once"] and ctx.attempt == 1:
            raise RuntimeError(f"chunk {ctx.chunk_index} lost its connection")
        numbers: list[int] = ctx.params["numbers"]
        ctx.progress(len(numbers), total=len(numbers))
        return {"sum": sum(numbers)}

    def combine(self, ctx: JobContext, results: Sequence[JobResult]) -> JobResult:
        return {"total": sum(r["sum"] for r in results if r), "chunks": len(results)}


def record_periodic_run(database: Database, settings: Settings) -> None:
    PERIODIC_RUNS.append(settings.resolved_database_url)
