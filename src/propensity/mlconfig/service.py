"""The ML configuration model, its defaults and limits, and where it is kept.

Stored under `tenants.settings["ml"]` as the document's camelCase JSON. A PUT sends any part
of it; the part is merged into the current configuration and the whole is validated before
anything is stored, so a bad value changes nothing and the 400 names the field."""

from __future__ import annotations

import copy
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

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


# The validated configuration of each tenant with the stored document it came from: a scoring
# request reads the configuration every time, and validating it cost more than reading it.
# Any change of the stored document is seen (it is compared whole), so this never goes stale.
_validated: LruCache[int, tuple[dict[str, Any], MlConfig]] = LruCache(1024)
_SETTINGS = sa.select(Tenant.settings).where(Tenant.id == sa.bindparam("tenant_id"))


def load_ml_config(session: Session, *, tenant_id: int) -> MlConfig:
    row = session.execute(_SETTINGS, {"tenant_id": tenant_id}).first()
    if row is None:
        raise _no_tenant(tenant_id)
    stored = (row[0] or {}).get(SETTINGS_KEY) or {}
    kept = _validated.get(tenant_id)
    if kept is not None and kept[0] == stored:
        return kept[1]
    config = _validate(stored)
    _validated.put(tenant_id, (copy.deepcopy(stored), config))
    return config


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
