"""One tenant's failure stops no other tenant's scheduled work.

A periodic task loops over tenants (or their models); whatever one of them raises, not only
the core's own errors (a damaged row can make the database itself fail), is logged with its
traceback and counted in the metrics, and the loop goes on with the next."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from propensity.errors import PropensityError
from propensity.logs import get_logger
from propensity.metrics import PERIODIC_FAILURES

log = get_logger(__name__)

T = TypeVar("T")
R = TypeVar("R")


def each(items: Iterable[T], action: Callable[[T], R], *, task: str) -> dict[T, R]:
    """`action(item)` for every item; returns the results of those that succeeded."""
    done: dict[T, R] = {}
    for item in items:
        try:
            done[item] = action(item)
        except PropensityError as exc:
            # An expected state (no data yet, a model that cannot score): no traceback needed.
            PERIODIC_FAILURES.labels(task=task).inc()
            log.warning("periodic_item_skipped", task=task, item=str(item), reason=exc.message)
        except Exception as exc:
            PERIODIC_FAILURES.labels(task=task).inc()
            log.exception(
                "periodic_item_failed", task=task, item=str(item), error=type(exc).__name__
            )
    return done
