"""Tenants and their settings: created and changed by admins, read (cached) on every request.

A tenant without a row is a tenant with every setting at the server default; keys can be made
for it before an admin ever configures it. Reads are cached for `CACHE_SECONDS` per process; a
change made through this service clears this process's cache at once, other processes see it
within `CACHE_SECONDS`.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from joblane.core.errors import Conflict, TenantNotFound, ValidationFailed
from joblane.core.tenant import Tenant, TenantSettings, default_tenant
from joblane.storage.base import Storage

CACHE_SECONDS = 2.0
TENANT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
_TENANT_ID = re.compile(TENANT_ID_PATTERN)
SETTINGS_LOC = ("body", "settings")


class SettingsInput(BaseModel):
    """Tenant settings as admins send them; a field set to null goes back to the default.
    Numbers must be JSON numbers: `true` is not the burst 1, nor "5" five days (12.0 is 12)."""

    model_config = ConfigDict(extra="forbid")

    retention_days: int | None = Field(default=None, ge=1, le=3650)
    read_rate: float | None = Field(default=None, gt=0, le=1_000_000)
    read_burst: int | None = Field(default=None, ge=1, le=1_000_000)
    write_rate: float | None = Field(default=None, gt=0, le=1_000_000)
    write_burst: int | None = Field(default=None, ge=1, le=1_000_000)
    max_running: int | None = Field(default=None, ge=1, le=1_000_000)
    max_payload_bytes: int | None = Field(default=None, ge=1024, le=1024**3)
    job_types: list[str] | None = Field(default=None, max_length=1000)

    @field_validator("*", mode="before")
    @classmethod
    def _json_numbers_only(cls, value: object, info: ValidationInfo) -> object:
        if info.field_name != "job_types" and isinstance(value, bool | str):
            raise ValueError("must be a number")
        return value


def check_tenant_id(tenant_id: str) -> None:
    if not _TENANT_ID.match(tenant_id):
        raise ValidationFailed(
            "a tenant id is 1-64 of A-Z a-z 0-9 _ . : - (starting with a letter or digit)",
            [{"loc": ["tenant_id"], "msg": "invalid tenant id", "type": "string_pattern"}],
        )


def parse_settings(changes: dict[str, Any], where: tuple[str, ...] = ("body",)) -> dict[str, Any]:
    """Validated setting changes (only the fields given); errors located under `where`."""
    try:
        model = SettingsInput.model_validate(changes)
    except ValidationError as exc:
        errors = [
            {"loc": [*where, *err["loc"]], "msg": err["msg"], "type": err["type"]}
            for err in exc.errors(include_url=False, include_context=False)
        ]
        raise ValidationFailed("tenant settings are not valid", errors) from None
    given = model.model_dump(exclude_unset=True)
    if given.get("job_types") is not None:
        given["job_types"] = tuple(dict.fromkeys(given["job_types"]))
    return given


class TenantService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._cache: dict[str, tuple[float, TenantSettings]] = {}

    async def settings(self, tenant_id: str) -> TenantSettings:
        now = self.storage.now()
        cached = self._cache.get(tenant_id)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        tenant = await self.storage.tenant_get(tenant_id)
        settings = TenantSettings() if tenant is None else tenant.settings
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[tenant_id] = (now, settings)
        return settings

    async def get(self, tenant_id: str) -> Tenant:
        check_tenant_id(tenant_id)
        tenant = await self.storage.tenant_get(tenant_id)
        if tenant is None:
            raise TenantNotFound(
                f"Tenant '{tenant_id}' not found", details={"tenant_id": tenant_id}
            )
        return tenant

    async def list(self) -> list[Tenant]:
        return await self.storage.tenants_list()

    async def create(self, tenant_id: str, name: str, changes: dict[str, Any]) -> Tenant:
        check_tenant_id(tenant_id)
        settings = TenantSettings().changed(**parse_settings(changes, SETTINGS_LOC))
        if await self.storage.tenant_get(tenant_id) is not None:
            raise Conflict(f"Tenant '{tenant_id}' already exists", details={"tenant_id": tenant_id})
        return await self._put(Tenant(tenant_id, name, 0.0, 0.0, settings))

    async def ensure(self, tenant_id: str) -> Tenant:
        """The tenant's row, made with default settings if it has none."""
        check_tenant_id(tenant_id)
        tenant = await self.storage.tenant_get(tenant_id)
        if tenant is None:
            tenant = await self._put(default_tenant(tenant_id, self.storage.now()))
        return tenant

    async def update(self, tenant_id: str, name: str | None, changes: dict[str, Any]) -> Tenant:
        tenant = await self.get(tenant_id)
        settings = tenant.settings.changed(**parse_settings(changes, SETTINGS_LOC))
        return await self._put(
            Tenant(tenant_id, tenant.name if name is None else name, 0, 0, settings)
        )

    async def _put(self, tenant: Tenant) -> Tenant:
        stored = await self.storage.tenant_put(tenant)
        self._cache.pop(tenant.id, None)
        return stored
