"""Tenants and their settings. A setting left `None` means "the server's default", so changing a
server default (`JOBLANE_*`) changes it for every tenant that did not choose otherwise."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal

RateKind = Literal["read", "write"]

DEFAULT_RETENTION_DAYS = 30
SETTING_NAMES = (
    "retention_days",
    "read_rate",
    "read_burst",
    "write_rate",
    "write_burst",
    "max_running",
    "max_payload_bytes",
    "job_types",
)


@dataclass(frozen=True, slots=True)
class TenantSettings:
    retention_days: int | None = None
    read_rate: float | None = None  # requests per second (status polls, lists)
    read_burst: int | None = None
    write_rate: float | None = None  # requests per second (submissions, actions)
    write_burst: int | None = None
    max_running: int | None = None  # running jobs at once, across all workers (None: no cap)
    max_payload_bytes: int | None = None  # request bodies (None: the server's limit)
    job_types: tuple[str, ...] | None = None  # the types it may submit (None: every type)

    def changed(self, **changes: Any) -> TenantSettings:
        unknown = set(changes) - set(SETTING_NAMES)
        if unknown:
            raise ValueError(f"unknown tenant settings: {sorted(unknown)}")
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return TenantSettings(**{**values, **changes})

    def may_use(self, job_type: str) -> bool:
        return self.job_types is None or job_type in self.job_types


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    name: str
    created_at: float
    updated_at: float
    settings: TenantSettings = field(default_factory=TenantSettings)


def default_tenant(tenant_id: str, now: float) -> Tenant:
    """What a tenant without a row is: every setting at the server default."""
    return Tenant(tenant_id, "", now, now)
