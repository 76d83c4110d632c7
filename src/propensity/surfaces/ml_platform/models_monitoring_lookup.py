"""Path and query parsing shared by the monitoring, features and analytics endpoints: model ids
(the ModelVersion id, an integer of the caller's tenant) and comma-separated lists."""

from __future__ import annotations

from propensity.crm.lookup import parse_id
from propensity.db import Session
from propensity.errors import InvalidInput, NotFound
from propensity.models import ModelVersion
from propensity.registry.service import get_version

MAX_LIST = 100


def model_not_found(model_id: object) -> NotFound:
    return NotFound(
        "ML model not found", code="MODEL_NOT_FOUND", details={"modelId": str(model_id).strip()}
    )


def version_or_404(session: Session, model_id: str | int) -> ModelVersion:
    """The tenant's model version with this id; any other id (another tenant's included) is 404."""
    version_id = parse_id(model_id)
    if version_id is None:
        raise model_not_found(model_id)
    try:
        # The session is scoped to the caller's tenant, so another tenant's id finds nothing.
        return get_version(session, version_id=version_id)
    except NotFound:
        raise model_not_found(model_id) from None


def comma_list(value: str | None, *, field: str) -> list[str]:
    items = [part.strip() for part in (value or "").split(",") if part.strip()]
    if len(items) > MAX_LIST:
        raise InvalidInput(
            f"{field} lists {len(items)} values; send at most {MAX_LIST}",
            code="VALIDATION_ERROR",
            details={"field": field, "max": MAX_LIST},
        )
    return items


def comma_ints(value: str | None, *, field: str) -> list[int]:
    items = comma_list(value, field=field)
    bad = [item for item in items if parse_id(item) is None]
    if bad:
        raise InvalidInput(
            f"{field} must be comma-separated integer ids; not ids: {', '.join(bad[:5])}",
            code="VALIDATION_ERROR",
            details={"field": field, "invalid": bad[:20]},
        )
    return list(dict.fromkeys(int(item) for item in items))  # all checked by parse_id
