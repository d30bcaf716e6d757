"""All configuration, from environment variables (names in upper case) or a `.env` file."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from enum import StrEnum
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_JWT_SECRET = "dev-only-insecure-jwt-secret-change-me"  # noqa: S105 - refused in production
_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
MIN_CODEC_TOKEN_LENGTH = 16


def parse_encryption_keys(raw: str) -> list[tuple[str, bytes]]:
    """`kid2:<base64 32 bytes>,kid1:<base64>` -> [(key id, key)], the first one current; errors name ids, never keys."""
    keys: list[tuple[str, bytes]] = []
    for position, entry in enumerate((part.strip() for part in raw.split(",") if part.strip()), start=1):
        key_id, sep, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not sep or not _KEY_ID.fullmatch(key_id):
            raise ValueError(
                f"PAYLOAD_ENCRYPTION_KEYS entry {position} must be <key id>:<base64 key>, the id 1-64 letters, digits, "
                ". _ or -"
            )
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"PAYLOAD_ENCRYPTION_KEYS key {key_id!r} is not valid base64") from None
        if len(key) != 32:
            raise ValueError(f"PAYLOAD_ENCRYPTION_KEYS key {key_id!r} must be 32 bytes (AES-256), got {len(key)}")
        if any(key_id == known for known, _ in keys):
            raise ValueError(f"PAYLOAD_ENCRYPTION_KEYS names key id {key_id!r} twice")
        keys.append((key_id, key))
    return keys


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    # Errors never echo their input: several fields are secrets.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    env: Environment = Environment.DEVELOPMENT

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/cvimprover"
    redis_url: str = "redis://127.0.0.1:6379/0"

    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "cv-improver"
    temporal_ui_url: str = "http://localhost:8233"
    # Payload encryption (ops/codec.py): `kid2:<base64 32 bytes>,kid1:<base64>`, the first key encrypts, all
    # decrypt (rotation); unset, payloads reach Temporal in clear. The codec server (/codec/encode, /codec/decode)
    # is mounted only with the keys and CODEC_SERVER_TOKEN; browsers may call it from CODEC_CORS_ORIGINS
    # (comma-separated; unset, the Temporal UI's origin).
    payload_encryption_keys: SecretStr | None = None
    codec_server_token: SecretStr | None = None
    codec_cors_origins: str | None = None

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

    # The worker's Prometheus endpoint (Temporal SDK metrics and the business counters): http://HOST:PORT/metrics.
    # Port 0 turns it off; loopback by default, 0.0.0.0 where Prometheus scrapes from another host (compose).
    worker_metrics_port: int = Field(default=9464, ge=0, le=65535)
    worker_metrics_host: str = "127.0.0.1"
    # On SIGTERM/SIGINT the worker stops polling and gives running activities this long to finish, then cancels
    # them (Temporal retries them on another worker). The deployment's stop grace period must be longer.
    worker_shutdown_grace_seconds: float = Field(default=30.0, ge=0)

    # Logs (ops/logging.py): JSON lines when LOG_FORMAT=json, readable lines when console; unset, JSON in production.
    log_format: Literal["json", "console"] | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Traces (ops/tracing.py): exported over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT (e.g. http://collector:4318)
    # when set; OTEL_SERVICE_NAME overrides the process's own name (cvimprover-api, cvimprover-worker).
    otel_exporter_otlp_endpoint: str | None = None
    otel_service_name: str | None = None

    @field_validator("payload_encryption_keys")
    @classmethod
    def _check_encryption_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not parse_encryption_keys(value.get_secret_value()):
            raise ValueError("PAYLOAD_ENCRYPTION_KEYS holds no key")
        return value

    @field_validator("codec_server_token")
    @classmethod
    def _check_codec_server_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if len(value.get_secret_value()) < MIN_CODEC_TOKEN_LENGTH:
            raise ValueError(f"CODEC_SERVER_TOKEN must be at least {MIN_CODEC_TOKEN_LENGTH} characters")
        return value

    @model_validator(mode="after")
    def _refuse_default_secrets_in_production(self) -> Settings:
        if self.env is Environment.PRODUCTION and self.jwt_secret.get_secret_value() == DEFAULT_JWT_SECRET:
            raise ValueError("JWT_SECRET must be set to a real secret when ENV=production")
        if self.env is Environment.PRODUCTION and self.google_configured and self.session_secret is None:
            raise ValueError("SESSION_SECRET must be set when ENV=production and Google sign-in is configured")
        return self

    @property
    def payload_encryption_keyring(self) -> list[tuple[str, bytes]]:
        """PAYLOAD_ENCRYPTION_KEYS as (key id, key), the current key first; empty when encryption is off."""
        if self.payload_encryption_keys is None:
            return []
        return parse_encryption_keys(self.payload_encryption_keys.get_secret_value())

    @property
    def codec_server_configured(self) -> bool:
        return self.payload_encryption_keys is not None and self.codec_server_token is not None

    @property
    def codec_cors_origin_list(self) -> list[str]:
        raw = self.codec_cors_origins if self.codec_cors_origins is not None else self.temporal_ui_url
        return [origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip()]

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
