"""Which code runs for which job type, and which work runs on a schedule.

Domains declare handlers in `propensity/<domain>/tasks.py`; every worker imports those
modules at start (`discover_handlers`), so a handler exists wherever a job can run.
"""

from __future__ import annotations

import abc
import importlib
import importlib.util
import pkgutil
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from propensity.db import Database
from propensity.jobs.context import JobContext
from propensity.settings import Settings

JobResult = dict[str, Any] | None
JobHandler = Callable[[JobContext], JobResult]
PeriodicFn = Callable[[Database, Settings], None]
Schedule = Callable[[datetime], bool]

CHUNK_SUFFIX = ":chunk"
_TYPE_RE = re.compile(r"^[a-z][a-z0-9_.-]{0,56}$")


class ChunkedJob(abc.ABC):
    """A job split into chunks that any worker can take.

    `plan` runs once per (re)run of the parent and returns one params dict per chunk; it
    must be deterministic for the same job (derive it from the job's params or a snapshot
    they name), because a re-run keeps chunks that already finished. Each chunk is a job
    row of its own (type `<type>:chunk`) run by `run_chunk`, retried on error and after a
    killed worker up to `job_max_attempts`; its result is stored on its row, so a retried
    chunk overwrites rather than duplicates. When every chunk has completed, `combine`
    turns their results (in plan order) into the parent's result. One failed chunk fails
    the parent; cancelling the parent cancels its chunks.
    """

    retry_on_error: ClassVar[bool] = True

    @abc.abstractmethod
    def plan(self, ctx: JobContext) -> Sequence[Mapping[str, Any]]: ...

    @abc.abstractmethod
    def run_chunk(self, ctx: JobContext) -> JobResult:
        """ctx.params are the chunk's params; ctx.chunk_index its position in the plan."""

    def combine(self, ctx: JobContext, results: Sequence[JobResult]) -> JobResult:
        del ctx
        return {"chunks": len(results)}


@dataclass(frozen=True)
class HandlerSpec:
    type: str
    origin: str
    handler: JobHandler | None = None
    chunked: ChunkedJob | None = None
    retry_on_error: bool = False


@dataclass(frozen=True)
class PeriodicSpec:
    name: str
    schedule: Schedule
    fn: PeriodicFn
    origin: str


_handlers: dict[str, HandlerSpec] = {}
_periodic: dict[str, PeriodicSpec] = {}
_lock = threading.Lock()
_discovered = False


def _origin(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def _register(spec: HandlerSpec) -> None:
    if not _TYPE_RE.match(spec.type):
        raise ValueError(
            f"job type {spec.type!r} must be lowercase letters, digits, '_', '.' or '-' "
            "(at most 57 characters, starting with a letter)"
        )
    with _lock:
        existing = _handlers.get(spec.type)
        # Re-importing the same module (reloads, a second import path) is not a conflict.
        if existing is not None and existing.origin != spec.origin:
            raise ValueError(
                f"job type {spec.type!r} is already handled by {existing.origin}; "
                f"{spec.origin} cannot register it again"
            )
        _handlers[spec.type] = spec


def job_handler(type: str, *, retry_on_error: bool = False) -> Callable[[JobHandler], JobHandler]:
    """Register `fn(ctx) -> dict | None` as the handler for a job type.

    An exception fails the job (message shown to users, traceback only in the log); with
    `retry_on_error=True` it is retried up to `job_max_attempts` first. A killed worker's
    job is always retried, so handlers must be idempotent (see JobContext).
    """

    def register(fn: JobHandler) -> JobHandler:
        _register(
            HandlerSpec(type=type, origin=_origin(fn), handler=fn, retry_on_error=retry_on_error)
        )
        return fn

    return register


C = TypeVar("C", bound=type[ChunkedJob])


def chunked_job_handler(type: str) -> Callable[[C], C]:
    """Register a ChunkedJob subclass (instantiated once, without arguments) for a job type."""

    def register(cls: C) -> C:
        instance = cls()
        _register(
            HandlerSpec(
                type=type, origin=_origin(cls), chunked=instance, retry_on_error=cls.retry_on_error
            )
        )
        return cls

    return register


def periodic_task(name: str, *, schedule: Schedule) -> Callable[[PeriodicFn], PeriodicFn]:
    """Run `fn(database, settings)` on a schedule, e.g. `schedule=crontab(minute="0", hour="2")`.

    Crontabs are evaluated in UTC. However many consumers run, each scheduled minute fires
    once. Keep the function short: typically it enqueues one job per tenant.
    """
    if not _TYPE_RE.match(name):
        raise ValueError(f"periodic task name {name!r} must look like a job type")

    def register(fn: PeriodicFn) -> PeriodicFn:
        spec = PeriodicSpec(name=name, schedule=schedule, fn=fn, origin=_origin(fn))
        with _lock:
            existing = _periodic.get(name)
            if existing is not None and existing.origin != spec.origin:
                raise ValueError(f"periodic task {name!r} is already defined by {existing.origin}")
            _periodic[name] = spec
        return fn

    return register


def periodic_specs() -> list[PeriodicSpec]:
    with _lock:
        return list(_periodic.values())


def base_type(job_type: str) -> str:
    return job_type.removesuffix(CHUNK_SUFFIX)


def lookup(job_type: str) -> HandlerSpec | None:
    """The spec for a job type (a chunk type resolves to its parent's), importing the
    domains' task modules on first miss."""
    name = base_type(job_type)
    spec = _handlers.get(name)
    if spec is None and not _discovered:
        discover_handlers()
        spec = _handlers.get(name)
    return spec


def discover_handlers(extra_modules: Sequence[str] = ()) -> None:
    """Import `propensity.<domain>.tasks` for every domain package, plus `extra_modules`."""
    global _discovered
    import propensity

    for module in pkgutil.iter_modules(propensity.__path__):
        if not module.ispkg:
            continue
        name = f"propensity.{module.name}.tasks"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
    for name in extra_modules:
        importlib.import_module(name)
    _discovered = True
