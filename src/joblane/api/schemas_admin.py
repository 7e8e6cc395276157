"""Wire models of the admin API (`/v1/admin/tenants`, `/v1/admin/keys`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from joblane.service.tenants import TENANT_ID_PATTERN, SettingsInput

Scope = Literal["jobs:read", "jobs:write", "admin"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoQuery(_Body):
    pass


class KeysQuery(_Body):
    tenant_id: str | None = Field(default=None, pattern=TENANT_ID_PATTERN)


# validated by `parse_settings` (which knows which fields were given); documented as the model
Settings = Annotated[dict[str, Any], WithJsonSchema(SettingsInput.model_json_schema())]


class CreateTenantBody(_Body):
    id: str = Field(pattern=TENANT_ID_PATTERN)
    name: str = Field(default="", max_length=200)
    settings: Settings = Field(default_factory=dict)


class UpdateTenantBody(_Body):
    name: str | None = Field(default=None, max_length=200)
    settings: Settings = Field(default_factory=dict)


class TenantOut(BaseModel):
    object: Literal["tenant"]
    id: str
    name: str
    created_at: str
    updated_at: str
    settings: SettingsInput


class TenantList(BaseModel):
    object: Literal["list"]
    data: list[TenantOut]


class CreateKeyBody(_Body):
    tenant_id: str = Field(pattern=TENANT_ID_PATTERN)
    scopes: list[Scope] = Field(default=["jobs:read", "jobs:write"], min_length=1)
    name: str = Field(default="", max_length=200)
    expires_in: float | None = Field(default=None, gt=0, le=10 * 365 * 86400)
    expires_at: datetime | None = None


class RotateKeyBody(_Body):
    grace_seconds: float = Field(default=0.0, ge=0, le=30 * 86400)


class KeyOut(BaseModel):
    object: Literal["api_key"]
    id: str
    tenant_id: str
    name: str
    prefix: str
    scopes: list[str]
    status: Literal["active", "revoked", "expired"]
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    replaced_by: str | None


class CreatedKeyOut(KeyOut):
    secret: str = Field(description="the key itself: shown this once, only a hash is kept")


class KeyList(BaseModel):
    object: Literal["list"]
    data: list[KeyOut]


ADMIN_MODELS: tuple[type[BaseModel], ...] = (
    CreateTenantBody,
    UpdateTenantBody,
    TenantOut,
    TenantList,
    CreateKeyBody,
    RotateKeyBody,
    KeyOut,
    CreatedKeyOut,
    KeyList,
)
