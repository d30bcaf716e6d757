"""All configuration, from environment variables (names in upper case) or a `.env` file."""

from __future__ import annotations

import hashlib
import hmac
import os
from enum import StrEnum
from functools import lru_cache

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_JWT_SECRET = "dev-only-insecure-jwt-secret-change-me"  # noqa: S105 - refused in production


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    env: Environment = Environment.DEVELOPMENT

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/cvimprover"
    redis_url: str = "redis://127.0.0.1:6379/0"

    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "cv-improver"
    temporal_ui_url: str = "http://localhost:8233"

    jwt_secret: SecretStr = SecretStr(DEFAULT_JWT_SECRET)
    jwt_issuer: str = "cvimprover"
    jwt_audience: str = "cvimprover-api"
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    password_reset_ttl_seconds: int = 30 * 60
    # Where the web app lives: password reset links point at PUBLIC_APP_URL/reset-password?token=...
    public_app_url: str = "http://localhost:3000"
    # smtp://user:pass@host:port or smtp+starttls://...; unset, mails are only logged (never their content).
    smtp_url: SecretStr | None = None
    smtp_from: str = "CV Improver <no-reply@localhost>"
    # Rate limits (sliding window in Redis): attempts per window, per e-mail address and per client address.
    rate_limit_window_seconds: int = 15 * 60
    login_limit_per_email: int = 10
    login_limit_per_address: int = 30
    password_forgot_limit_per_email: int = 5
    password_forgot_limit_per_address: int = 30

    # Google sign-in (OpenID Connect); unconfigured without a client id. SESSION_SECRET signs the short-lived
    # cookie that carries state, nonce and PKCE verifier between /auth/google/login and the callback; unset, it is
    # derived from JWT_SECRET (refused in production when Google is configured). PUBLIC_API_URL is where the
    # browser reaches this API: the redirect URI is PUBLIC_API_URL + /auth/google/callback.
    google_client_id: str | None = None
    google_client_secret: SecretStr | None = None
    google_discovery_url: str = "https://accounts.google.com/.well-known/openid-configuration"
    session_secret: SecretStr | None = None
    public_api_url: str = "http://127.0.0.1:8000"

    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o"
    openai_timeout_seconds: float = 90.0

    # Stripe billing; unconfigured without a secret key (billing answers 503, the Free plan works). STRIPE_API_BASE
    # points the SDK at another Stripe-compatible server. Price ids override the ones seeded in `plans`.
    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_api_base: str | None = None
    stripe_price_pro_monthly: str | None = None
    stripe_price_pro_yearly: str | None = None
    stripe_price_premium_monthly: str | None = None
    stripe_price_premium_yearly: str | None = None
    # A past-due subscription keeps its plan this long, then falls back to Free until it is paid.
    billing_grace_days: int = 7
    # After a billing period ends, how long to wait for `invoice.paid` before asking Stripe.
    billing_reconcile_after_minutes: int = 120

    max_upload_bytes: int = 5 * 1024 * 1024
    max_pages: int = 20
    # WeasyPrint holds the GIL, so renders run in child processes, one per core, at a lower priority than the
    # worker's event loop (measured by `make bench`: two processes on 2 cores finish a load 13 % sooner than one).
    render_processes: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1))

    @model_validator(mode="after")
    def _refuse_default_secrets_in_production(self) -> Settings:
        if self.env is Environment.PRODUCTION and self.jwt_secret.get_secret_value() == DEFAULT_JWT_SECRET:
            raise ValueError("JWT_SECRET must be set to a real secret when ENV=production")
        if self.env is Environment.PRODUCTION and self.google_configured and self.session_secret is None:
            raise ValueError("SESSION_SECRET must be set when ENV=production and Google sign-in is configured")
        return self

    @property
    def google_configured(self) -> bool:
        return bool(self.google_client_id)

    @property
    def session_secret_value(self) -> str:
        """SESSION_SECRET, or a key derived from JWT_SECRET (never the JWT key itself)."""
        if self.session_secret is not None:
            return self.session_secret.get_secret_value()
        key = self.jwt_secret.get_secret_value().encode()
        return hmac.new(key, b"cvimprover-session-cookie", hashlib.sha256).hexdigest()

    @property
    def billing_configured(self) -> bool:
        return self.stripe_secret_key is not None and bool(self.stripe_secret_key.get_secret_value())

    def stripe_price_overrides(self) -> dict[tuple[str, str], str]:
        """(plan code, interval) -> Stripe price id, for the prices set in the environment."""
        prices = {
            ("pro", "month"): self.stripe_price_pro_monthly,
            ("pro", "year"): self.stripe_price_pro_yearly,
            ("premium", "month"): self.stripe_price_premium_monthly,
            ("premium", "year"): self.stripe_price_premium_yearly,
        }
        return {key: value for key, value in prices.items() if value}

    @property
    def llm_configured(self) -> bool:
        return self.openai_api_key is not None and bool(self.openai_api_key.get_secret_value())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
