"""One Settings object: `JOBLANE_*` environment variables overridden by CLI flags, validated
once at start."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE = "sqlite:///joblane.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JOBLANE_", extra="ignore", frozen=True)

    app: str | None = Field(default=None, description="module:attribute of a joblane.Joblane")
    database_url: str = DEFAULT_DATABASE
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    api_processes: int = Field(default=1, ge=1, le=64)
    concurrency: int = Field(default=10, ge=1, le=10_000)
    lease_seconds: float = Field(default=30.0, gt=0.1, le=3600)
    shutdown_grace: float = Field(default=30.0, ge=0, le=3600)
    maintenance_interval: float = Field(default=5.0, gt=0, le=300)
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = "FULL"
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_wait: float = Field(default=60.0, ge=0, le=600)
    max_batch_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)
    max_batch_items: int = Field(default=1_000_000, ge=1)
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    pool_size: int = Field(default=10, ge=1, le=500, description="PostgreSQL connections")

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("must look like sqlite:///path/to/file.db or postgresql://host/db")
        return value

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql://", "postgres://"))


def load_settings(**overrides: Any) -> Settings:
    """Environment first, then the flags that were actually given."""
    return Settings(**{key: value for key, value in overrides.items() if value is not None})
