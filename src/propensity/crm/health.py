"""An account's recorded health scores over time: the overall score and each dimension's, as
the health narrative (narratives.health) reads them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.models import HealthSnapshot

# The dimension columns of a health snapshot.
DIMENSIONS = ("engagement", "product_adoption", "support_satisfaction", "executive_relationship")


@dataclass(frozen=True)
class HealthHistory:
    overall: dict[date, float]
    # Dimension -> its recorded scores; dimensions never recorded are left out.
    dimensions: dict[str, dict[date, float]]


def health_history(session: Session, *, customer_id: int, until: date) -> HealthHistory:
    """The customer's overall and per-dimension scores recorded up to and including `until`,
    by snapshot date: what a health-trend answer's insights, anomalies and areas are
    computed from."""
    rows = session.execute(
        sa.select(
            HealthSnapshot.snapshot_date,
            HealthSnapshot.overall_score,
            *[getattr(HealthSnapshot, d) for d in DIMENSIONS],
        )
        .where(HealthSnapshot.customer_id == customer_id, HealthSnapshot.snapshot_date <= until)
        .order_by(HealthSnapshot.snapshot_date)
    ).all()
    overall = {row[0]: float(row[1]) for row in rows}
    dimensions: dict[str, dict[date, float]] = {d: {} for d in DIMENSIONS}
    for row in rows:
        for i, dimension in enumerate(DIMENSIONS):
            if row[2 + i] is not None:
                dimensions[dimension][row[0]] = float(row[2 + i])
    return HealthHistory(overall=overall, dimensions={d: h for d, h in dimensions.items() if h})
