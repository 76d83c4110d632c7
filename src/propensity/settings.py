"""One place for configuration: environment variables prefixed PROPENSITY_, or a .env file."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
MIN_SECRET_KEY_LENGTH = 32


class WeakSecretKeyError(RuntimeError):
    """Production refuses to start with a missing or guessable signing key."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PROPENSITY_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Literal["development", "production", "test"] = "development"
    home: Path = Field(default=Path("var"), description="Folder for everything the service writes")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default SQLite at HOME/propensity.db"
    )
    redis_url: str | None = Field(
        default=None, description="Redis for the job queue and rate limits when scaling out"
    )
    secret_key: SecretStr | None = None
    token_lifetime_minutes: int = Field(default=60 * 12, ge=1, le=60 * 24 * 30)
    # Self-registration (the RetainStream document's /auth/register) is off unless enabled,
    # and then only joins the tenant named here, for the listed email domains when given.
    registration_enabled: bool = False
    registration_tenant: str | None = Field(
        default=None, description="The tenant self-registered users join (required to register)"
    )
    registration_allowed_domains: list[str] = Field(default_factory=list)

    host: str = "127.0.0.1"
    port: int = 8000
    # Per server worker: requests served at once (threads, each may hold a database
    # connection; the pool is sized to match), and requests admitted in all (running or
    # queued). Beyond that a request is answered 503 with Retry-After at once.
    request_threads: int = Field(default=16, ge=1, le=256)
    max_in_flight: int = Field(default=64, ge=1, le=10_000)
    # Per process: fresh scorings run at once; more requests asking for one wait their turn,
    # and are scored together (serving/gate.py). Python runs one of them at a time anyway.
    scoring_concurrency: int = Field(default=1, ge=1, le=256)
    # When set, GET /metrics needs `Authorization: Bearer <token>`; otherwise it is open (bind
    # the server to a private address, or put the token in the scraper's configuration).
    metrics_token: SecretStr | None = None
    # Retention (retention/service.py, pruned daily): predictions no longer the answer, finished
    # jobs, and webhook events whose deliveries have all ended, older than this many days.
    retention_prediction_days: int = Field(default=400, ge=30)
    retention_job_days: int = Field(default=90, ge=1)
    retention_webhook_days: int = Field(default=30, ge=1)
    # Where worker processes of one machine share rate-limit counters without Redis (set by
    # `serve --workers N`; None: each process counts in memory).
    ratelimit_shared_path: Path | None = None
    # Largest JSON body accepted (imports take files up to their own limit): 413 beyond.
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    log_level: str = "INFO"
    log_json: bool = False

    # Jobs
    job_stale_after_seconds: int = Field(default=120, ge=10)
    job_max_attempts: int = Field(default=3, ge=1)
    worker_threads: int = Field(default=2, ge=1, le=32)

    # Per-client limit on the RetainStream surface (its document: 100 per 15 minutes per IP),
    # in the `limits` notation "N/period".
    retainstream_rate_limit: str = "100/15minutes"
    # How long RetainStream's POST /model/train waits for its training job before answering
    # 202 with the job to follow (the document answers once training completed).
    retainstream_train_wait_seconds: float = Field(default=120.0, ge=0.0, le=600.0)

    # Customer-success surface: daily quotas per tenant (its document: 100 single predictions,
    # 5 batch operations and 50 CTA generations a day), in the `limits` notation.
    cs_predict_daily_limit: str = "100/day"
    cs_batch_daily_limit: str = "5/day"
    cs_cta_daily_limit: str = "50/day"
    # An ML-generated CTA for an account blocks another one for this many days.
    cta_cooldown_days: int = Field(default=7, ge=0)
    # Churn riskCategory cut-offs on the calibrated probability. Unset, they follow the active
    # model's decision threshold t: medium >= t/2, high >= t, critical >= max(0.8, t).
    churn_risk_medium: float | None = Field(default=None, ge=0, le=1)
    churn_risk_high: float | None = Field(default=None, ge=0, le=1)
    churn_risk_critical: float | None = Field(default=None, ge=0, le=1)
    # A HEALTH_TREND prediction is accurate when the score it forecast is within this many
    # points of the score actually recorded at the end of its window.
    health_tolerance_points: float = Field(default=5.0, gt=0)

    # Lead-ML surface: predictions per tenant (its document: 100 a minute and 1,000 an hour;
    # fresh ones only, a bulk request counts one per lead scored), in the `limits` notation.
    lead_rate_limit_per_minute: str = "100/minute"
    lead_rate_limit_per_hour: str = "1000/hour"
    # HOT/WARM cut-offs on the calibrated conversion probability. Unset, they follow the
    # active model's decision threshold t: HOT >= t, WARM >= t/2.
    lead_hot_probability: float | None = Field(default=None, ge=0, le=1)
    lead_warm_probability: float | None = Field(default=None, ge=0, le=1)
    # Priority tiers by rank percentile (cumulative): top, high, medium; the rest is low.
    lead_tier_top_percent: float = Field(default=10, gt=0, le=100)
    lead_tier_high_percent: float = Field(default=30, gt=0, le=100)
    lead_tier_medium_percent: float = Field(default=60, gt=0, le=100)
    # Priority's time discount halves the expected value every this many days to close.
    lead_priority_half_life_days: float = Field(default=90, gt=0)

    # ML-platform surface: per-tenant request limits by class (its document: scoring 500,
    # batch 50, model management 100, analytics 200 requests a minute).
    ml_rate_limit_scoring: str = "500/minute"
    ml_rate_limit_batch: str = "50/minute"
    ml_rate_limit_management: str = "100/minute"
    ml_rate_limit_analytics: str = "200/minute"

    # How long a prediction stays valid before it is recomputed.
    lead_prediction_validity_hours: int = Field(default=24, ge=1)
    customer_prediction_validity_days: int = Field(default=30, ge=1)

    # Optional LLM (any OpenAI-compatible server); the ML never depends on it.
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_model: str | None = None
    llm_timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    # Retries after a timeout, connection error, 429 or 5xx, with exponential backoff.
    llm_max_retries: int = Field(default=2, ge=0, le=10)
    llm_backoff_seconds: float = Field(default=0.5, ge=0, le=60)
    # Per tenant and UTC day; 0 means no limit. Once spent, narratives use the templates.
    llm_daily_token_budget: int = Field(default=200_000, ge=0)
    llm_daily_cost_budget_usd: float = Field(default=0.0, ge=0)
    # Estimated cost: USD per million input / output tokens, by model name, as JSON, e.g.
    # {"gpt-4o-mini": [0.15, 0.60]}; a model not listed costs 0 (a local server).
    llm_prices_per_million: dict[str, tuple[float, float]] = Field(default_factory=dict)

    # Webhooks (signed, delivered through the job queue after the triggering commit).
    # Private, loopback and link-local receivers are refused unless allowed here.
    webhook_allow_private_addresses: bool = False
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # One attempt's whole budget: name resolution, connecting to every address, TLS, sending
    # the event and reading the answer's headers, however slowly the receiver trickles them.
    webhook_deadline_seconds: float = Field(default=15.0, gt=0, le=300)
    # Deliveries one tenant may have in flight at once in a worker process; whatever this
    # says, deliveries use at most (consumer threads - 1) threads, so one is left for jobs.
    webhook_concurrency_per_tenant: int = Field(default=1, ge=1, le=16)
    webhook_max_attempts: int = Field(default=8, ge=1, le=30)
    webhook_backoff_seconds: float = Field(default=2.0, ge=0, le=3600)
    # Consecutive failed deliveries after which a subscription is disabled and reported.
    webhook_disable_after_failures: int = Field(default=20, ge=1, le=10_000)

    # CORS: origins (scheme://host[:port]) allowed to call the API from a browser, as JSON, e.g.
    # ["https://app.example.com"]. The dashboard is served from the API's own origin and needs
    # none; the default allows no other origin.
    cors_allowed_origins: list[str] = Field(default_factory=list)

    # Demo admin
    demo_admin_email: str = "admin@demo.local"
    demo_admin_password: SecretStr | None = None

    _file_key: tuple[Path, str] | None = PrivateAttr(default=None)

    @field_validator("cors_allowed_origins")
    @classmethod
    def _check_origins(cls, origins: list[str]) -> list[str]:
        """Each an exact origin as browsers send it: a wildcard would let any site call the API
        with a user's token, and a path or trailing slash would never match."""
        for origin in origins:
            parts = urlsplit(origin)
            if (
                parts.scheme not in ("http", "https")
                or not parts.hostname
                or parts.path
                or parts.query
                or parts.fragment
                or parts.username
            ):
                raise ValueError(
                    f"cors_allowed_origins: {origin!r} is not an origin like "
                    "'https://app.example.com' or 'http://localhost:3000'"
                )
        return [origin.lower() for origin in origins]

    @model_validator(mode="after")
    def _resolve_home(self) -> Settings:
        self.home = self.home.expanduser()
        return self

    @model_validator(mode="after")
    def _check_limits_and_cutoffs(self) -> Settings:
        from limits import parse

        for name in (
            "retainstream_rate_limit",
            "cs_predict_daily_limit",
            "cs_batch_daily_limit",
            "cs_cta_daily_limit",
            "lead_rate_limit_per_minute",
            "lead_rate_limit_per_hour",
            "ml_rate_limit_scoring",
            "ml_rate_limit_batch",
            "ml_rate_limit_management",
            "ml_rate_limit_analytics",
        ):
            try:
                parse(getattr(self, name))
            except ValueError as exc:
                raise ValueError(f"{name}: expected a limit like '100/day' ({exc})") from exc
        cutoffs = [
            v
            for v in (self.churn_risk_medium, self.churn_risk_high, self.churn_risk_critical)
            if v is not None
        ]
        if cutoffs != sorted(cutoffs):
            raise ValueError(
                "churn_risk_medium <= churn_risk_high <= churn_risk_critical must hold"
            )
        tiers = (
            self.lead_tier_top_percent,
            self.lead_tier_high_percent,
            self.lead_tier_medium_percent,
        )
        if list(tiers) != sorted(tiers):
            raise ValueError(
                "lead_tier_top_percent <= lead_tier_high_percent <= lead_tier_medium_percent "
                "must hold"
            )
        if (
            self.lead_hot_probability is not None
            and self.lead_warm_probability is not None
            and self.lead_warm_probability > self.lead_hot_probability
        ):
            raise ValueError("lead_warm_probability <= lead_hot_probability must hold")
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'propensity.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    def signing_key(self) -> str:
        """The JWT signing key: configured, or generated once into HOME and reused.

        Production must configure a strong key explicitly: a key that lives only in a
        local file would differ between replicas and silently log everyone out.
        """
        if self.secret_key is not None:
            key = self.secret_key.get_secret_value()
            if self.environment == "production" and _is_weak(key):
                raise WeakSecretKeyError(
                    "PROPENSITY_SECRET_KEY is too weak for production: use at least "
                    f"{MIN_SECRET_KEY_LENGTH} random characters (e.g. `openssl rand -hex 32`)"
                )
            return key
        if self.environment == "production":
            raise WeakSecretKeyError(
                "PROPENSITY_SECRET_KEY must be set in production "
                "(e.g. `export PROPENSITY_SECRET_KEY=$(openssl rand -hex 32)`)"
            )
        # Read once per home: this runs on every authenticated request.
        path = self.home / SECRET_KEY_FILE
        cached = self._file_key
        if cached is None or cached[0] != path:
            cached = (path, _load_or_create_key(path))
            self._file_key = cached
        return cached[1]


def _is_weak(key: str) -> bool:
    return len(key) < MIN_SECRET_KEY_LENGTH or len(set(key)) < 10


def _load_or_create_key(path: Path) -> str:
    if path.exists():
        key = path.read_text(encoding="utf-8").strip()
        if key:
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Created with its final mode: written first and restricted after, another user could
    # open it in between.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(key)
    path.chmod(0o600)  # an existing empty file keeps its old mode through O_CREAT
    return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    get_settings.cache_clear()
