"""The churn model's history as the portfolio's pages compare it: the version the active one
is judged against. (The active model itself comes from registry.service.active_version.)"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.models import ModelStatus, ModelVersion


def previous_version(session: Session, *, version: ModelVersion) -> ModelVersion | None:
    """The latest successfully trained version of the same type and population before
    `version` (any status but failed or still training): what a new version's held-out
    metrics are compared with. None for the first one."""
    return session.scalars(
        sa.select(ModelVersion)
        .where(
            ModelVersion.prediction_type == version.prediction_type,
            ModelVersion.population == version.population,
            ModelVersion.version_number < version.version_number,
            ModelVersion.status.not_in([ModelStatus.FAILED.value, ModelStatus.TRAINING.value]),
        )
        .order_by(ModelVersion.version_number.desc())
        .limit(1)
    ).first()
