"""The latest drift check per model, kept in the tenant's settings under "monitoring".

Why there: the daily check's results must outlive the process (several API replicas read them)
and the registry's schema must not change, so a JSON column the tenant already has is used
instead of a new table. The cost: a summary only (per-feature PSI, drifted features, the overall
score, score and concept drift, recommendations), not the full bins, and one read-modify-write of
the settings document per check (a concurrent configuration update in the same instant could be
lost; checks run once a day at 03:30 UTC).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.models import Tenant
from propensity.monitoring.service import DriftReport

SETTINGS_KEY = "monitoring"


def summary(report: DriftReport) -> dict[str, Any]:
    data = report.to_dict()
    analysis = data["driftAnalysis"]
    return {
        "modelId": report.model_id,
        "asOf": data["asOf"],
        "overallDrift": analysis["overallDrift"],
        "featureDrift": analysis["featureDrift"],
        "driftedFeatures": [
            {"feature": d.name, "psi": round(d.psi, 6), "level": d.level}
            for d in report.drifted_features()
        ],
        "scoreDrift": analysis["scoreDrift"],
        "conceptDrift": analysis["conceptDrift"],
        "recommendations": data["recommendations"],
    }


def _tenant(session: Session, tenant_id: int) -> Tenant | None:
    return session.scalars(sa.select(Tenant).where(Tenant.id == tenant_id)).first()


def save_drift(session: Session, *, tenant_id: int, report: DriftReport) -> None:
    tenant = _tenant(session, tenant_id)
    if tenant is None:
        return
    settings = dict(tenant.settings or {})
    monitoring = dict(settings.get(SETTINGS_KEY) or {})
    drift = dict(monitoring.get("drift") or {})
    drift[str(report.model_id)] = summary(report)
    monitoring["drift"] = drift
    settings[SETTINGS_KEY] = monitoring
    # A new dict, so the JSON column is seen as changed.
    tenant.settings = settings
    session.flush()


def latest_drift(session: Session, *, tenant_id: int, model_id: int) -> dict[str, Any] | None:
    tenant = _tenant(session, tenant_id)
    if tenant is None:
        return None
    stored = ((tenant.settings or {}).get(SETTINGS_KEY) or {}).get("drift") or {}
    found = stored.get(str(model_id))
    return found if isinstance(found, dict) else None
