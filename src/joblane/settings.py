"""One Settings object: `JOBLANE_*` environment variables overridden by CLI flags, validated
once at start."""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from joblane.core.retention import DEFAULT_RETENTION_DAYS, DEFAULT_TOMBSTONE_DAYS
from joblane.core.targets import TargetPolicy
from joblane.core.webhooks import RetrySchedule

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
    # Retention: finished jobs and batches are purged after this many days (a tenant's own
    # setting wins); a purged id answers 410 for `tombstone_days`, then 404.
    retention_days: int = Field(default=DEFAULT_RETENTION_DAYS, ge=1, le=36_500)
    tombstone_days: int = Field(default=DEFAULT_TOMBSTONE_DAYS, ge=1, le=36_500)
    retention_chunk: int = Field(default=500, ge=1, le=10_000, description="rows per write")
    retention_pause: float = Field(
        default=0.05, ge=0, le=60, description="seconds between chunks, at least"
    )
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = "FULL"
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_wait: float = Field(default=60.0, ge=0, le=600)
    max_batch_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)
    max_batch_items: int = Field(default=1_000_000, ge=1)
    max_json_depth: int = Field(
        default=32, ge=1, le=128, description="levels of arrays/objects in a job's input"
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Observability (docs/observability.md): JSON lines on stderr unless it is a terminal;
    # /metrics open unless `metrics_token` is set; `metrics_dir` shared by this host's processes
    log_format: Literal["auto", "json", "text"] = "auto"
    metrics_token: str | None = Field(default=None, min_length=16)
    metrics_dir: str | None = Field(default=None, description="prometheus multiprocess files")
    # Rate limits per API key (a tenant's own settings override them): reads are GET/HEAD.
    rate_read: float = Field(default=50.0, gt=0, le=1_000_000, description="reads per second")
    rate_read_burst: int = Field(default=100, ge=1, description="reads at once")
    rate_write: float = Field(default=10.0, gt=0, le=1_000_000, description="writes per second")
    rate_write_burst: int = Field(default=20, ge=1, description="writes at once")
    redis_url: str | None = Field(
        default=None, description="redis://host:6379/0 shares rate limits across API processes"
    )

    pool_size: int = Field(default=10, ge=1, le=500, description="PostgreSQL connections")
    pool_timeout: float = Field(
        default=2.0, gt=0, le=60, description="seconds to wait for a free connection, then 503"
    )
    sqlite_max_pending_writes: int = Field(
        default=2000, ge=1, description="SQLite writes waiting for the writer; beyond: 503"
    )
    secret_key: str | None = Field(
        default=None,
        min_length=32,
        description="HMAC secret for API key hashes (default: one generated into the database)",
    )

    # Artifacts: a result over `result_inline_limit` bytes (as JSON) is stored as a file, as
    # is every file a handler writes: in `artifacts_url` (a directory, or any fsspec URL such
    # as s3://bucket/prefix with the `s3` extra; default: a directory beside the SQLite
    # database, or ./artifacts), `artifacts_options` passed to fsspec (JSON).
    result_inline_limit: int = Field(
        default=256 * 1024, ge=0, description="bytes of JSON kept inline in a job's result"
    )
    artifacts_url: str | None = Field(default=None, description="where artifact files go")
    artifacts_options: dict[str, Any] = Field(
        default_factory=dict, description="fsspec options (credentials, endpoint_url, …)"
    )
    artifact_max_bytes: int = Field(
        default=5 * 1024**3, ge=1, description="the largest file a job may write"
    )
    artifact_link_ttl: int = Field(
        default=3600, ge=60, le=7 * 86_400, description="seconds a signed link works, at least"
    )

    # Webhooks (README "Webhooks"): every `serve` and `worker` process dispatches, at most
    # `webhook_concurrency` attempts at once, each within `webhook_timeout` seconds; a claimed
    # delivery is re-claimed after `webhook_lease_seconds` if its process died. Retries wait
    # `webhook_retry_schedule` (seconds, comma-separated; default 5 s … 10 h over 27.6 h).
    # Targets must be public addresses unless listed in `webhook_allow_hosts` (addresses,
    # CIDR networks and host names, comma-separated). The delivery log keeps `webhook_log_days`.
    webhook_dispatch: bool = Field(default=True, description="send webhooks from this process")
    webhook_concurrency: int = Field(default=16, ge=1, le=1000)
    webhook_timeout: float = Field(default=10.0, gt=0, le=300)
    webhook_lease_seconds: float = Field(default=60.0, gt=0, le=3600)
    webhook_poll_interval: float = Field(default=30.0, gt=0, le=3600)  # a safety net
    webhook_retry_schedule: str = Field(default="5,300,1800,7200,18000,36000,36000")
    webhook_allow_hosts: str = Field(default="", description="e.g. 127.0.0.1,10.0.0.0/8")
    webhook_log_days: float = Field(default=7.0, gt=0, le=3650)

    # Profiles (docs/profiles.md): `compat` mounts profiles under /compat/<name>/ ("all",
    # "none" or names separated by commas); `profile` also serves one at the root.
    compat: str = Field(default="all", description="profiles under /compat/<name>/")
    profile: str | None = Field(default=None, description="a profile served at the root")

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        delays = [float(part) for part in value.split(",") if part.strip()]
        if any(delay <= 0 for delay in delays):
            raise ValueError("delays must be positive numbers of seconds")
        return value

    @field_validator("webhook_allow_hosts")
    @classmethod
    def _allow_hosts(cls, value: str) -> str:
        TargetPolicy.parse(value)
        return value

    @property
    def webhook_targets(self) -> TargetPolicy:
        return TargetPolicy.parse(self.webhook_allow_hosts)

    @property
    def webhook_schedule(self) -> RetrySchedule:
        delays = tuple(float(part) for part in self.webhook_retry_schedule.split(",") if part)
        return RetrySchedule(delays)

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("must look like sqlite:///path/to/file.db or postgresql://host/db")
        return value

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql://", "postgres://"))

    @property
    def artifacts_location(self) -> str:
        """`artifacts_url`, or `<database>-artifacts` beside a SQLite file, or ./artifacts."""
        if self.artifacts_url:
            return self.artifacts_url
        if self.is_postgres:
            return os.path.abspath("artifacts")
        database = os.path.abspath(self.database_url.removeprefix("sqlite:///"))
        stem = os.path.splitext(os.path.basename(database))[0]
        return os.path.join(os.path.dirname(database), f"{stem}-artifacts")


def load_settings(**overrides: Any) -> Settings:
    """Environment first, then the flags that were actually given."""
    return Settings(**{key: value for key, value in overrides.items() if value is not None})
