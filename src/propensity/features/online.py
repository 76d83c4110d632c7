"""The online path: the features of a few entities without reading the whole tenant.

A build decides some things from the whole tenant, so that the columns of one entity are the
columns of all: which typed columns and attributes are features and how each attribute is read
(`ColumnPlan`), which event types exist for the kind, whether the kind has health snapshots.
Reading all of that costs a scan of the tenant's events (about a second on the demo's 1.3M)
for what is, per entity, a handful of rows.

So those tenant-wide facts (the tenant's "shape") are computed once and cached per process,
keyed by the tenant's history stamp (history_cache.py), one read by primary key per build.
Every import renews it before it writes, so the next build after an import recomputes the
shape. Writes that bypass the import (none in the service) would not renew it; a shape is
therefore also rebuilt after SHAPE_TTL_SECONDS whatever the stamp says. A tenant whose stamp is
unknown (0) gets no cached shape.

Everything else (the entities' own rows, events and health) is read per build by indexed
queries on the requested ids, and the feature code is the same as the full build's, so the
values are identical (tests/features/test_online.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from propensity.db import cache_scope
from propensity.features.attributes import ColumnPlan, plan_columns
from propensity.features.history import health_present, present_event_types
from propensity.features.history_cache import history_stamp
from propensity.features.loading import Entities, load_customers, load_leads
from propensity.features.policy import ColumnPolicy
from propensity.lru import LruCache

SHAPE_TTL_SECONDS = 300.0
MAX_SHAPES = 256


@dataclass(frozen=True, kw_only=True)
class TenantShape:
    plan: ColumnPlan
    present_types: tuple[str, ...] | None  # customers only: lead features are fixed
    has_health: bool


class _ShapeCache:
    """Shapes by key, each for SHAPE_TTL_SECONDS after it was computed."""

    def __init__(self) -> None:
        self._entries: LruCache[tuple[Any, ...], tuple[float, TenantShape]] = LruCache(MAX_SHAPES)

    def get(self, key: tuple[Any, ...]) -> TenantShape | None:
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[0] > SHAPE_TTL_SECONDS:
            return None
        return entry[1]

    def put(self, key: tuple[Any, ...], shape: TenantShape) -> None:
        self._entries.put(key, (time.monotonic(), shape))

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


shape_cache = _ShapeCache()


def tenant_shape(
    session: Session,
    *,
    subject: str,
    kind: str | None,
    policy: ColumnPolicy,
    point_in_time: bool,
    entities: Entities | None = None,
) -> TenantShape:
    """The cached shape of this tenant's `subject`/`kind` data, recomputed when stale.
    `entities`: the whole entity table, when the caller has loaded it already (a portfolio
    build), so that a stale shape does not load it a second time."""
    stamp = history_stamp(session)
    key = (*cache_scope(session), subject, kind, policy, point_in_time, stamp)
    cached = shape_cache.get(key) if stamp else None
    if cached is not None:
        return cached
    if entities is None:
        entities = load_leads(session) if subject == "lead" else load_customers(session, kind=kind)
    shape = TenantShape(
        plan=plan_columns(entities, policy=policy, point_in_time=point_in_time),
        present_types=None if subject == "lead" else present_event_types(session, entities),
        has_health=subject != "lead" and health_present(session, entities),
    )
    if stamp:
        shape_cache.put(key, shape)
    return shape
