"""GET /api/customers/high-risk, GET /api/customers/{customerId}, POST /api/customers/segment.

Risk levels use the active model's threshold t (propensity.portfolio.risk): High >= t,
Medium >= t/2, Low below.

A customer's churn_probability is the subscriber's churn prediction as the serving data plane
answers it: the stored one while it is still valid for the model serving the subscriber,
otherwise scored, recorded and committed now (so the next call, and every other surface,
gets that same prediction). Without a trained model it is null, as is prediction_date."""

from __future__ import annotations

import math

from fastapi import APIRouter

from propensity import serving
from propensity.crm.lookup import find_subscriber
from propensity.db import utcnow
from propensity.deps import AppSettings, TenantSession, Viewer
from propensity.errors import InvalidInput, NotFound
from propensity.portfolio import subscribers
from propensity.portfolio.risk import risk_level, threshold_of
from propensity.surfaces.retainstream import modelinfo
from propensity.surfaces.retainstream.payloads import (
    CustomerOut,
    CustomerResponse,
    HighRiskData,
    HighRiskResponse,
    PaginationOut,
    RiskCustomerOut,
    SegmentOut,
    SegmentsData,
    SegmentsResponse,
)
from propensity.surfaces.retainstream.present import (
    ago,
    days_since,
    subscription_age_months,
    whole,
)
from propensity.surfaces.retainstream.route import RateLimitedRoute
from propensity.timefmt import iso_z

router = APIRouter(prefix="/customers", route_class=RateLimitedRoute)
MAX_LIMIT = 100


def _positive_int(name: str, raw: str, *, default: int, high: int | None = None) -> int:
    """Query numbers are checked here so bad ones get the documented 400 envelope."""
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1 or (high is not None and value > high):
        bound = f"between 1 and {high}" if high is not None else "at least 1"
        raise InvalidInput(f"{name} must be an integer {bound}")
    return value


@router.get("/high-risk", response_model=HighRiskResponse)
def high_risk(
    _viewer: Viewer, session: TenantSession, page: str = "", limit: str = ""
) -> HighRiskResponse:
    page_n = _positive_int("page", page, default=1)
    limit_n = _positive_int("limit", limit, default=10, high=MAX_LIMIT)
    threshold = threshold_of(modelinfo.require_model(session))
    rows, total = subscribers.high_risk_page(
        session, threshold=threshold, page=page_n, limit=limit_n
    )
    customers = [
        RiskCustomerOut(
            user_id=row.customer.external_id,
            plan=row.customer.plan,
            churn_probability=round(row.probability, 4),
            last_activity=ago(row.last_activity_at),
            tenure_months=whole(row.customer.tenure_months),
            risk_level=risk_level(row.probability, threshold),
        )
        for row in rows
    ]
    pagination = PaginationOut(
        page=page_n, limit=limit_n, total=total, pages=math.ceil(total / limit_n)
    )
    return HighRiskResponse(data=HighRiskData(customers=customers, pagination=pagination))


@router.post("/segment", response_model=SegmentsResponse)
def segment(_viewer: Viewer, session: TenantSession) -> SegmentsResponse:
    version = modelinfo.require_model(session)
    counts = subscribers.risk_segments(session, threshold=threshold_of(version))
    return SegmentsResponse(
        data=SegmentsData(
            segments=[SegmentOut(segment=f"{level} Risk", count=n) for level, n in counts.items()]
        )
    )


@router.get("/{customer_id}", response_model=CustomerResponse)
def customer(
    customer_id: str, _viewer: Viewer, session: TenantSession, settings: AppSettings
) -> CustomerResponse:
    found = find_subscriber(session, key=customer_id)
    if found is None:
        raise NotFound("Customer not found", code="CUSTOMER_NOT_FOUND")
    served = None
    if (
        serving.serving_models_or_none(
            session, prediction_type=modelinfo.PREDICTION_TYPE, population=modelinfo.POPULATION
        )
        is not None
    ):
        served = serving.serve(
            session,
            prediction_type=modelinfo.PREDICTION_TYPE,
            population=modelinfo.POPULATION,
            entity_id=found.id,
            now=utcnow(),
            settings=settings,
            # The document shows the probability only; a stored prediction without its
            # explanation is still the answer.
            explained=False,
        )
    prediction = served.prediction if served is not None else None
    probability = prediction.probability if prediction is not None else None
    return CustomerResponse(
        data=CustomerOut(
            user_id=found.external_id,
            email=found.email,
            plan=found.plan,
            watch_time_hours=found.watch_time_hours,
            subscription_age_months=subscription_age_months(found),
            device_count=found.device_count,
            last_login_days=days_since(found.last_login_at),
            payment_failures=found.payment_failures,
            tenure_months=whole(found.tenure_months),
            churn_probability=None if probability is None else round(probability, 4),
            prediction_date=iso_z(prediction.predicted_at) if prediction is not None else None,
        )
    )
