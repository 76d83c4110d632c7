"""The online path: the features of a few entities without reading the whole tenant.

A build decides some things from the whole tenant, so that the columns of one entity are the
columns of all: which typed columns and attributes are features and how each attribute is read
(`ColumnPlan`), which event types exist for the kind, whether the kind has health snapshots.
Reading all of that costs a scan of the tenant's events (about a second on the demo's 1.3M)
for what is, per entity, a handful of rows.

So those tenant-wide facts (the tenant's "shape") are computed once and cached per process,
keyed by a data stamp read on every build with cheap indexed aggregates:

- the entity table: the latest `updated_at` of the tenant's entities, any kind (imports stamp
  `updated_at` on every row they insert or update, and ORM writes do on update); one probe of
  the (tenant, updated_at) index, so its cost does not grow with the tenant. A row count or
  largest id would also see deletions, but each costs a scan of the tenant's rows (or a probe
  only once planner statistics exist), and nothing in the service deletes entities;
- events and health snapshots: the largest id of the whole table (primary key, one index
  probe; any tenant's new rows change it, which only costs a recomputation).

Anything imported therefore changes the stamp and the next build recomputes the shape. What the
stamp does not see is an event re-imported under the same key with a different type, every
event of a type deleted while its customers stay, or entities deleted outside the service; a
shape is therefore also rebuilt after SHAPE_TTL_SECONDS whatever the stamp says.

Everything else (the entities' own rows, events and health) is read per build by indexed
queries on the requested ids, and the feature code is the same as the full build's, so the
values are identical (tests/features/test_online.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.db import tenant_execute, tenant_matches
from propensity.features.attributes import ColumnPlan, plan_columns
from propensity.features.loading import (
    Entities,
    health_present,
    load_customers,
    load_leads,
    present_event_types,
    tenant_of,
)
from propensity.features.policy import ColumnPolicy
from propensity.lru import LruCache
from propensity.models import Customer, Event, HealthSnapshot, Lead

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


def data_stamp(session: Session, *, subject: str, kind: str | None) -> tuple[Any, ...]:
    """What changes whenever the data a shape is computed from changes (see the module doc)."""
    del kind  # any kind's change recomputes the shape: a recomputation is the only cost
    return tuple(tenant_execute(session, _stamp_statement(subject == "lead")).one())


@cache
def _stamp_statement(lead: bool) -> sa.Select[Any]:
    """One statement, built once, with an explicit tenant filter on the entity table only:
    the automatic tenant filter would also reach the max(id) subqueries and turn each
    one-probe lookup into a scan. Those read only a number across all tenants."""
    entity: Any = Lead if lead else Customer
    # Each maximum on its own: SQLite answers a lone max() from an index in one probe.
    maxima: list[Any] = [
        sa.select(sa.func.max(entity.updated_at))
        .where(tenant_matches(entity.tenant_id))
        .scalar_subquery(),
        sa.select(sa.func.max(Event.id)).scalar_subquery(),
    ]
    if not lead:
        maxima.append(sa.select(sa.func.max(HealthSnapshot.id)).scalar_subquery())
    return sa.select(*maxima)


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
    bind = session.get_bind()
    stamp = data_stamp(session, subject=subject, kind=kind)
    key = (
        str(bind.engine.url),
        id(bind.engine),
        tenant_of(session),
        subject,
        kind,
        policy,
        point_in_time,
        stamp,
    )
    cached = shape_cache.get(key)
    if cached is not None:
        return cached
    if entities is None:
        entities = load_leads(session) if subject == "lead" else load_customers(session, kind=kind)
    shape = TenantShape(
        plan=plan_columns(entities, policy=policy, point_in_time=point_in_time),
        present_types=None if subject == "lead" else present_event_types(session, entities),
        has_health=subject != "lead" and health_present(session, entities),
    )
    shape_cache.put(key, shape)
    return shape
