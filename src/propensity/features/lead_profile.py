"""One lead's features in the lead-ml document's shape (`GET /leads/:id/ml/features`).

The values are read from the CONVERSION scoring frame (the model's own features), so the
endpoint shows exactly what the model sees; only `emailDomain`, which is not a model input (a
domain per company would not generalise), is added here from the same helper.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from propensity.features.attributes import email_domains
from propensity.features.builder import to_python
from propensity.features.definitions import FeatureKind
from propensity.features.scoring import build_scoring_frame
from propensity.models import Lead
from propensity.vocabulary import PredictionType

_ACTIVITY_COUNTS = (
    "emailOpenCount",
    "emailClickCount",
    "pageViewCount",
    "formSubmitCount",
    "meetingCount",
    "callCount",
)
# The document's groups and keys, in its order.
PROFILE_KEYS: dict[str, tuple[str, ...]] = {
    "demographic": (
        "hasCompany",
        "hasTitle",
        "hasPhone",
        "emailDomainType",
        "titleSeniority",
        "companySizeEstimate",
        "emailDomain",
    ),
    "behavioral": (
        *_ACTIVITY_COUNTS,
        "activityVelocity",
        "channelDiversity",
        "highValueActionCount",
        "totalActivities",
    ),
    "temporal": (
        "daysSinceCreated",
        "daysSinceLastActivity",
        "recencyScore",
        "activityBurst",
        "dayPattern",
        "timePattern",
        "leadAgeWeeks",
    ),
    "engagement": (
        "totalEngagementScore",
        "emailOpenRate",
        "emailClickRate",
        "sequenceEngagement",
        "avgResponseTime",
        "isInActiveSequence",
        "currentSequenceStep",
    ),
}
# Counts and whole-number quantities the document shows as integers.
_INTEGERS = {
    *_ACTIVITY_COUNTS,
    "channelDiversity",
    "highValueActionCount",
    "totalActivities",
    "leadAgeWeeks",
    "totalEngagementScore",
    "currentSequenceStep",
}
DECIMALS = 4


def lead_feature_groups(
    session: Session, *, lead_id: int, as_of: datetime | None = None
) -> dict[str, dict[str, Any]]:
    """{"demographic": {...}, "behavioral": {...}, "temporal": {...}, "engagement": {...}} for
    one lead of the session's tenant, as of `as_of` (default now). Raises NotFound."""
    scoring = build_scoring_frame(
        session,
        prediction_type=PredictionType.CONVERSION.value,
        entity_ids=[lead_id],
        as_of=as_of,
    )
    row = scoring.frame.iloc[0]
    values: dict[str, Any] = {}
    for definition in scoring.definitions:
        if definition.api_name is None:
            continue
        values[definition.api_name] = _json_value(
            definition.api_name, definition.kind, row[definition.name]
        )
    values["emailDomain"] = _email_domain(session, lead_id)
    return {group: {key: values.get(key) for key in keys} for group, keys in PROFILE_KEYS.items()}


def _json_value(api_name: str, kind: FeatureKind, value: Any) -> Any:
    value = to_python(value)
    if value is None:
        return None
    if kind is FeatureKind.BOOLEAN:
        return bool(value)
    if isinstance(value, float):
        if api_name in _INTEGERS:
            return round(value)
        return round(value, DECIMALS)
    return value


def _email_domain(session: Session, lead_id: int) -> str | None:
    email = session.execute(sa.select(Lead.email).where(Lead.id == lead_id)).scalar_one_or_none()
    domain = email_domains(pd.Series([email], dtype=object)).iloc[0]
    return str(domain) if domain is not None else None
