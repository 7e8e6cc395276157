"""The admin section of the OpenAPI document (see `openapi.py` for the table's shape)."""

from __future__ import annotations

from joblane.api import schemas_admin as a
from joblane.api.openapi_types import Operation, Param, id_schema
from joblane.service.tenants import TENANT_ID_PATTERN

TENANT = {"type": "string", "pattern": TENANT_ID_PATTERN}
TENANT_ID = Param("tenant_id", "path", "a tenant id (1-64 of A-Z a-z 0-9 _ . : -)", TENANT)
KEY_ID = Param(
    "key_id", "path", "a key id: key_ + 26 Crockford base32 characters", id_schema("key")
)
ERRORS = (401, 403, 422, 500, 503)

ADMIN_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "get",
        "/v1/admin/tenants",
        "listTenants",
        "Tenants (admin)",
        {200: a.TenantList},
        errors=ERRORS,
    ),
    Operation(
        "post",
        "/v1/admin/tenants",
        "createTenant",
        "Create a tenant with its settings (admin)",
        {201: a.TenantOut},
        body=a.CreateTenantBody,
        errors=(*ERRORS, 409, 413, 415),
    ),
    Operation(
        "get",
        "/v1/admin/tenants/{tenant_id}",
        "getTenant",
        "A tenant and its settings (admin)",
        {200: a.TenantOut},
        params=(TENANT_ID,),
        errors=(*ERRORS, 404),
    ),
    Operation(
        "patch",
        "/v1/admin/tenants/{tenant_id}",
        "updateTenant",
        "Change a tenant's name or settings; null restores a default (admin)",
        {200: a.TenantOut},
        body=a.UpdateTenantBody,
        params=(TENANT_ID,),
        errors=(*ERRORS, 404, 413, 415),
    ),
    Operation(
        "get",
        "/v1/admin/keys",
        "listKeys",
        "API keys, never their secrets (admin)",
        {200: a.KeyList},
        params=(Param("tenant_id", "query", "only this tenant's keys", TENANT),),
        errors=ERRORS,
    ),
    Operation(
        "post",
        "/v1/admin/keys",
        "createKey",
        "Create an API key; its secret is in this response only (admin)",
        {201: a.CreatedKeyOut},
        body=a.CreateKeyBody,
        errors=(*ERRORS, 413, 415),
    ),
    Operation(
        "get",
        "/v1/admin/keys/{key_id}",
        "getKey",
        "An API key (admin)",
        {200: a.KeyOut},
        params=(KEY_ID,),
        errors=(400, *ERRORS, 404),
    ),
    Operation(
        "post",
        "/v1/admin/keys/{key_id}/revoke",
        "revokeKey",
        "Revoke an API key at once (admin)",
        {200: a.KeyOut},
        params=(KEY_ID,),
        errors=(400, *ERRORS, 404),
    ),
    Operation(
        "post",
        "/v1/admin/keys/{key_id}/rotate",
        "rotateKey",
        "Replace a key: a new secret now, the old one valid for grace_seconds (admin)",
        {201: a.CreatedKeyOut},
        body=a.RotateKeyBody,
        params=(KEY_ID,),
        errors=(400, *ERRORS, 404, 413, 415),
    ),
)
