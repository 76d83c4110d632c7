"""The ML configuration model, its defaults and limits, and where it is kept.

Stored under `tenants.settings["ml"]` as the document's camelCase JSON. A PUT sends any part
of it; the part is merged into the current configuration and the whole is validated before
anything is stored, so a bad value changes nothing and the 400 names the field."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from propensity.db import TENANT_KEY, tenant_matches
from propensity.db_read import tenant_read
from propensity.errors import InvalidInput, NotFound
from propensity.lru import LruCache
from propensity.models import Tenant

SETTINGS_KEY = "ml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Caching(_Strict):
    enabled: bool = True
    ttl: int = Field(default=3600, ge=0, le=7 * 24 * 3600, description="seconds")
    maxSize: int = Field(default=10_000, ge=0, le=10_000_000)  # noqa: N815


class Scoring(_Strict):
    # Bounds batch-score jobs; a synchronous predict/conversion takes at most SYNC_LEADS.
    maxBatchSize: int = Field(default=1000, ge=1, le=100_000)  # noqa: N815
    timeout: int = Field(default=30_000, ge=100, le=600_000, description="milliseconds")
    caching: Caching = Field(default_factory=Caching)


class Training(_Strict):
    autoRetrain: bool = True  # noqa: N815
    retrainThreshold: float = Field(default=0.05, gt=0, le=1)  # noqa: N815
    maxTrainingTime: int = Field(  # noqa: N815
        default=7_200_000, ge=60_000, le=86_400_000, description="milliseconds"
    )
    validationSplit: float = Field(default=0.2, gt=0, lt=0.5)  # noqa: N815


class AlertThresholds(_Strict):
    accuracyDrop: float = Field(default=0.05, gt=0, le=1)  # noqa: N815
    latencyIncrease: float = Field(default=100, gt=0, le=10_000, description="percent")  # noqa: N815


class Monitoring(_Strict):
    driftDetection: bool = True  # noqa: N815
    alertThresholds: AlertThresholds = Field(default_factory=AlertThresholds)  # noqa: N815


class MlConfig(_Strict):
    scoring: Scoring = Field(default_factory=Scoring)
    training: Training = Field(default_factory=Training)
    monitoring: Monitoring = Field(default_factory=Monitoring)


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _tenant(session: Session, tenant_id: int) -> Tenant:
    tenant = session.scalars(sa.select(Tenant).where(Tenant.id == tenant_id)).first()
    if tenant is None:
        raise _no_tenant(tenant_id)
    return tenant


def _no_tenant(tenant_id: int) -> NotFound:
    return NotFound(f"Tenant {tenant_id} not found")


# The validated configuration of each tenant with the stored settings it came from, as the
# driver returned them: a scoring request reads the configuration every time, and decoding and
# validating it cost more than reading it. Any change of the stored settings is seen (they are
# compared whole), so this never goes stale.
_validated: LruCache[int, tuple[Any, MlConfig]] = LruCache(1024)
_SETTINGS = sa.select(Tenant.settings).where(Tenant.id == sa.bindparam("tenant_id"))
# The tenant's own session reads them on the driver's cursor (db_read.tenant_read), without
# the ORM's execution.
_OWN_SETTINGS = sa.select(Tenant.settings).where(tenant_matches(Tenant.id))


def load_ml_config(session: Session, *, tenant_id: int) -> MlConfig:
    raw, decoded = _stored_settings(session, tenant_id=tenant_id)
    kept = _validated.get(tenant_id)
    if kept is not None and kept[0] == raw:
        return kept[1]
    config = _validate((decoded() or {}).get(SETTINGS_KEY) or {})
    _validated.put(tenant_id, (copy.deepcopy(raw), config))
    return config


def _stored_settings(session: Session, *, tenant_id: int) -> tuple[Any, Callable[[], Any]]:
    """The tenant's settings as the driver returned them (a JSON text on SQLite), and a function
    giving them decoded."""
    if session.info.get(TENANT_KEY) == tenant_id:
        read = tenant_read(session, _OWN_SETTINGS)
        if not read.rows:
            raise _no_tenant(tenant_id)
        return read.rows[0][0], lambda: read.all()[0][0]
    found = session.execute(_SETTINGS, {"tenant_id": tenant_id}).first()
    if found is None:
        raise _no_tenant(tenant_id)
    return found[0], lambda: found[0]


def _validate(stored: dict[str, Any]) -> MlConfig:
    try:
        return MlConfig.model_validate(stored)
    except ValidationError:
        # A configuration stored by an older version with fields since retired: keep what
        # still validates field by field rather than failing every request.
        return MlConfig.model_validate(
            {k: v for k, v in stored.items() if k in MlConfig.model_fields}
        )


def update_ml_config(session: Session, *, tenant_id: int, patch: Any) -> MlConfig:
    """Merges `patch` into the tenant's configuration, validates the whole, stores it and
    commits (a PUT is its own unit of work); returns the configuration now in force."""
    if not isinstance(patch, dict) or not patch:
        raise InvalidInput(
            'Send a JSON object with the parts to change, e.g. {"scoring": {"maxBatchSize": 1500}}',
            code="VALIDATION_ERROR",
        )
    tenant = _tenant(session, tenant_id)
    current = load_ml_config(session, tenant_id=tenant_id).model_dump()
    try:
        updated = MlConfig.model_validate(_merge(current, patch))
    except ValidationError as exc:
        problems = [
            {
                "field": ".".join(str(p) for p in error["loc"]),
                "problem": str(error["msg"]),
            }
            for error in exc.errors()
        ]
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems[:5])
        raise InvalidInput(
            f"Invalid configuration: {summary}",
            code="VALIDATION_ERROR",
            details={"errors": problems},
        ) from exc
    tenant.settings = {**(tenant.settings or {}), SETTINGS_KEY: updated.model_dump()}
    session.commit()
    return updated
