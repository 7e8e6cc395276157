"""A `tenants` row → `Tenant`, for both backends (`decode` turns the JSON column into Python)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from joblane.core.tenant import Tenant, TenantSettings
from joblane.storage.params import ApiKeyRecord


def tenant_from_row(row: Any, decode: Callable[[Any], Any]) -> Tenant:
    job_types = row["job_types"]
    return Tenant(
        id=row["id"],
        name=row["name"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        settings=TenantSettings(
            retention_days=row["retention_days"],
            read_rate=row["read_rate"],
            read_burst=row["read_burst"],
            write_rate=row["write_rate"],
            write_burst=row["write_burst"],
            max_running=row["max_running"],
            max_payload_bytes=row["max_payload_bytes"],
            job_types=None if job_types is None else tuple(decode(job_types)),
        ),
    )


def tenant_params(tenant: Tenant) -> dict[str, Any]:
    """Named parameters of `tenant_put`; `job_types` stays a list (each backend encodes it)."""
    s = tenant.settings
    return {
        "id": tenant.id,
        "name": tenant.name,
        "retention_days": s.retention_days,
        "read_rate": s.read_rate,
        "read_burst": s.read_burst,
        "write_rate": s.write_rate,
        "write_burst": s.write_burst,
        "max_running": s.max_running,
        "max_payload_bytes": s.max_payload_bytes,
        "job_types": None if s.job_types is None else list(s.job_types),
    }


def key_params(key: ApiKeyRecord, scopes: Any) -> dict[str, Any]:
    """Named parameters of `key_insert`; `scopes` already in the backend's JSON form."""
    return {
        "id": key.id,
        "tenant_id": key.tenant_id,
        "name": key.name,
        "prefix": key.prefix,
        "key_hash": key.key_hash,
        "scopes": scopes,
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "hash_version": key.hash_version,
    }
