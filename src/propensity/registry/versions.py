"""Reading the registry a page at a time, for the model API's listing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.models import ModelVersion


@dataclass(frozen=True)
class VersionPage:
    versions: list[ModelVersion]
    total: int  # how many versions match, over every page


def version_page(
    session: Session,
    *,
    status: str | None,
    prediction_types: Sequence[str] | None,
    page: int,
    limit: int,
) -> VersionPage:
    """The tenant's versions (with this status, of these prediction types, when given), newest
    first, page `page` (from 1) of `limit`, with the number matching in all."""
    where: list[sa.ColumnElement[bool]] = []
    if status:
        where.append(ModelVersion.status == status)
    if prediction_types:
        where.append(ModelVersion.prediction_type.in_(list(prediction_types)))
    total = session.scalar(sa.select(sa.func.count(ModelVersion.id)).where(*where)) or 0
    rows = session.scalars(
        sa.select(ModelVersion)
        .where(*where)
        .order_by(ModelVersion.id.desc())
        .offset((page - 1) * limit)
        .limit(limit)
    )
    return VersionPage(versions=list(rows), total=int(total))
