"""The admin API: tenants and their settings, API keys (create, list, revoke, rotate).

Every route needs a key with the `admin` scope. A key's secret appears in exactly one response:
the one that created it (by `POST /v1/admin/keys` or by a rotation).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from joblane.api.batch_query import parse_query
from joblane.api.context import ApiContext, caller
from joblane.api.http import json_response, parse_json_body
from joblane.api.schemas_admin import (
    CreateKeyBody,
    CreateTenantBody,
    KeysQuery,
    NoQuery,
    RotateKeyBody,
    UpdateTenantBody,
)
from joblane.core.clock import to_rfc3339
from joblane.core.errors import ValidationFailed
from joblane.core.tenant import SETTING_NAMES, Tenant
from joblane.service.keys import CreatedKey, KeyService
from joblane.service.tenants import TenantService
from joblane.storage.params import ApiKeyRecord


async def _admin(request: Request) -> tuple[ApiContext, KeyService, TenantService]:
    ctx, who = await caller(request)
    who.require_admin()
    return ctx, ctx.keys, ctx.keys.tenants


def tenant_body(tenant: Tenant) -> dict[str, object]:
    settings = {name: getattr(tenant.settings, name) for name in SETTING_NAMES}
    if tenant.settings.job_types is not None:
        settings["job_types"] = list(tenant.settings.job_types)
    return {
        "object": "tenant",
        "id": tenant.id,
        "name": tenant.name,
        "created_at": to_rfc3339(tenant.created_at),
        "updated_at": to_rfc3339(tenant.updated_at),
        "settings": settings,
    }


def key_body(key: ApiKeyRecord, now: float) -> dict[str, object]:
    status = "active"
    if key.revoked_at is not None:
        status = "revoked"
    elif key.expires_at is not None and key.expires_at <= now:
        status = "expired"
    return {
        "object": "api_key",
        "id": key.id,
        "tenant_id": key.tenant_id,
        "name": key.name,
        "prefix": key.prefix,
        "scopes": list(key.scopes),
        "status": status,
        "created_at": to_rfc3339(key.created_at),
        "expires_at": to_rfc3339(key.expires_at),
        "revoked_at": to_rfc3339(key.revoked_at),
        "replaced_by": key.replaced_by,
    }


def _created(created: CreatedKey, now: float) -> Response:
    body = {**key_body(created.record, now), "secret": created.secret}
    return json_response(body, 201, {"Location": f"/v1/admin/keys/{created.record.id}"})


# -- tenants ---------------------------------------------------------------------------------
async def list_tenants(request: Request) -> Response:
    _, _, tenants = await _admin(request)
    parse_query(request.query_params, NoQuery)
    data = [tenant_body(t) for t in await tenants.list()]
    return json_response({"object": "list", "data": data})


async def create_tenant(request: Request) -> Response:
    ctx, _, tenants = await _admin(request)
    body = await parse_json_body(request, CreateTenantBody, ctx.settings.max_body_bytes)
    tenant = await tenants.create(body.id, body.name, body.settings)
    return json_response(tenant_body(tenant), 201, {"Location": f"/v1/admin/tenants/{tenant.id}"})


async def get_tenant(request: Request) -> Response:
    _, _, tenants = await _admin(request)
    return json_response(tenant_body(await tenants.get(request.path_params["tenant_id"])))


async def update_tenant(request: Request) -> Response:
    ctx, _, tenants = await _admin(request)
    body = await parse_json_body(request, UpdateTenantBody, ctx.settings.max_body_bytes)
    tenant = await tenants.update(request.path_params["tenant_id"], body.name, body.settings)
    return json_response(tenant_body(tenant))


# -- keys ------------------------------------------------------------------------------------
async def list_keys(request: Request) -> Response:
    ctx, keys, _ = await _admin(request)
    query = parse_query(request.query_params, KeysQuery)
    records = await keys.list(query.tenant_id)
    now = ctx.storage.now()
    return json_response({"object": "list", "data": [key_body(k, now) for k in records]})


async def create_key(request: Request) -> Response:
    ctx, keys, _ = await _admin(request)
    body = await parse_json_body(request, CreateKeyBody, ctx.settings.max_body_bytes)
    now = ctx.storage.now()
    if body.expires_in is not None and body.expires_at is not None:
        raise ValidationFailed(
            "give expires_in or expires_at, not both",
            [{"loc": ["body", "expires_at"], "msg": "conflicts with expires_in"}],
        )
    expires_at = body.expires_at.timestamp() if body.expires_at else None
    if body.expires_in is not None:
        expires_at = now + body.expires_in
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed(
            "expires_at must be in the future",
            [{"loc": ["body", "expires_at"], "msg": "in the past", "type": "greater_than"}],
        )
    created = await keys.create(body.tenant_id, tuple(body.scopes), body.name, expires_at)
    return _created(created, now)


async def get_key(request: Request) -> Response:
    ctx, keys, _ = await _admin(request)
    record = await keys.get(request.path_params["key_id"])
    return json_response(key_body(record, ctx.storage.now()))


async def revoke_key(request: Request) -> Response:
    ctx, keys, _ = await _admin(request)
    key_id = request.path_params["key_id"]
    await keys.revoke(key_id)
    return json_response(key_body(await keys.get(key_id), ctx.storage.now()))


async def rotate_key(request: Request) -> Response:
    ctx, keys, _ = await _admin(request)
    body = await parse_json_body(request, RotateKeyBody, ctx.settings.max_body_bytes, optional=True)
    created = await keys.rotate(request.path_params["key_id"], body.grace_seconds)
    return _created(created, ctx.storage.now())


routes = [
    Route("/v1/admin/tenants", list_tenants, methods=["GET"]),
    Route("/v1/admin/tenants", create_tenant, methods=["POST"]),
    Route("/v1/admin/tenants/{tenant_id}", get_tenant, methods=["GET"]),
    Route("/v1/admin/tenants/{tenant_id}", update_tenant, methods=["PATCH"]),
    Route("/v1/admin/keys", list_keys, methods=["GET"]),
    Route("/v1/admin/keys", create_key, methods=["POST"]),
    Route("/v1/admin/keys/{key_id}", get_key, methods=["GET"]),
    Route("/v1/admin/keys/{key_id}/revoke", revoke_key, methods=["POST"]),
    Route("/v1/admin/keys/{key_id}/rotate", rotate_key, methods=["POST"]),
]
