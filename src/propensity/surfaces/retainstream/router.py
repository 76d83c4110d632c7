"""spec/retainstream.md under `/api`: authentication and health here; dashboard, customers,
predictions and model endpoints in their own modules, included below.

Every RetainStream route counts against the documented 100 requests per 15 minutes per
client IP (`X-RateLimit-Remaining` on responses, the 429 envelope past the limit)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse

from propensity import __version__
from propensity.db import utcnow
from propensity.deps import AppDatabase, AppSettings
from propensity.errors import Forbidden
from propensity.prefix_router import PrefixRouter
from propensity.ratelimit import client_ip, rate_limit
from propensity.settings import Settings
from propensity.surfaces.retainstream import customers, dashboard, model, predictions
from propensity.surfaces.retainstream.route import RateLimitedRoute
from propensity.surfaces.retainstream.schemas import (
    HealthResponse,
    LoginData,
    LoginRequest,
    LoginResponse,
    MessageResponse,
    RegisterRequest,
    UserOut,
)
from propensity.tenancy import registration
from propensity.tenancy.service import log_in
from propensity.timefmt import iso_z

RATE_LIMIT_SCOPE = "retainstream"


def _configured_limit(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return settings.retainstream_rate_limit


router = PrefixRouter(
    prefix="/api",
    tags=["retainstream"],
    route_class=RateLimitedRoute,
    dependencies=[
        Depends(
            rate_limit(
                scope=RATE_LIMIT_SCOPE,
                limit=_configured_limit,
                key=client_ip,
                exempt=frozenset({"/api/health"}),
            )
        )
    ],
)


@router.post("/auth/login", response_model=LoginResponse)
def login(
    body: LoginRequest, response: Response, db: AppDatabase, settings: AppSettings
) -> LoginResponse:
    lifetime = timedelta(minutes=settings.token_lifetime_minutes)
    signed_in = log_in(
        db,
        email=body.email,
        password=body.password,
        key=settings.signing_key(),
        lifetime=lifetime,
    )
    user = signed_in.user
    user_out = UserOut(id=user.id, email=user.email, name=user.name, role=user.role)
    response.set_cookie(
        "token",
        signed_in.token,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=settings.environment == "production",
    )
    return LoginResponse(data=LoginData(token=signed_in.token, user=user_out))


@router.post("/auth/register", response_model=MessageResponse, status_code=201)
def register(body: RegisterRequest, db: AppDatabase, settings: AppSettings) -> MessageResponse:
    if not settings.registration_enabled:
        raise Forbidden("Registration is disabled", code="REGISTRATION_DISABLED")
    registration.register(
        db,
        email=body.email,
        password=body.password,
        name=body.name,
        configured_tenant=settings.registration_tenant,
        allowed_domains=settings.registration_allowed_domains,
    )
    return MessageResponse(message="User registered successfully")


@router.get("/health", response_model=HealthResponse)
def health(db: AppDatabase) -> Response:
    status, code = ("OK", 200) if db.reachable() else ("ERROR", 503)
    body = HealthResponse(
        status=status, timestamp=iso_z(utcnow()), service="RetainStream API", version=__version__
    )
    return JSONResponse(body.model_dump(), status_code=code)


for _module in (dashboard, customers, predictions, model):
    router.include_router(_module.router)
