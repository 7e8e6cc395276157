"""Tenants, API keys and server secrets on PostgreSQL (`PostgresTenants`, a mixin of
`PostgresStorage`). SQL in `tenants.sql`."""

from __future__ import annotations

from typing import Any

import asyncpg

from joblane.core.tenant import Tenant
from joblane.storage.params import ApiKeyRecord
from joblane.storage.postgres.connection import Conn
from joblane.storage.postgres.mixin import PostgresMixin
from joblane.storage.postgres.rows import key_from_record
from joblane.storage.sqlfiles import load_positional
from joblane.storage.tenantmap import key_params, tenant_from_row, tenant_params

Q = load_positional("joblane.storage.postgres", "tenants.sql")


async def _fetch(conn: Conn, query: str, **params: Any) -> list[asyncpg.Record]:
    q = Q[query]
    return list(await conn.fetch(q.sql, *q.args(params)))


def _same(value: Any) -> Any:
    return value  # the pool's codecs already decoded jsonb


def _key_params(key: ApiKeyRecord) -> dict[str, Any]:
    return key_params(key, list(key.scopes))


class PostgresTenants(PostgresMixin):
    async def _tenant_rows(self, query: str, **params: Any) -> list[asyncpg.Record]:
        async with self._conn() as conn:
            return await _fetch(conn, query, **params)

    # -- tenants -----------------------------------------------------------------------------
    async def tenant_get(self, tenant_id: str) -> Tenant | None:
        rows = await self._tenant_rows("tenant_get", id=tenant_id)
        return tenant_from_row(rows[0], _same) if rows else None

    async def tenants_list(self) -> list[Tenant]:
        return [tenant_from_row(r, _same) for r in await self._tenant_rows("tenants_list")]

    async def tenant_put(self, tenant: Tenant) -> Tenant:
        rows = await self._tenant_rows("tenant_put", **tenant_params(tenant))
        return tenant_from_row(rows[0], _same)

    # -- API keys ----------------------------------------------------------------------------
    async def key_insert(self, key: ApiKeyRecord) -> None:
        await self._tenant_rows("key_insert", **_key_params(key))

    async def key_get(self, key_id: str) -> ApiKeyRecord | None:
        rows = await self._tenant_rows("key_get", id=key_id)
        return key_from_record(rows[0]) if rows else None

    async def key_by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        rows = await self._tenant_rows("key_by_hash", key_hash=key_hash)
        return key_from_record(rows[0]) if rows else None

    async def keys_list(self, tenant_id: str | None) -> list[ApiKeyRecord]:
        if tenant_id is None:
            rows = await self._tenant_rows("keys_list")
        else:
            rows = await self._tenant_rows("keys_list_for_tenant", tenant_id=tenant_id)
        return [key_from_record(r) for r in rows]

    async def key_revoke(self, key_id: str) -> bool:
        async with self._conn() as conn:
            q = Q["key_revoke"]
            status = await conn.execute(q.sql, *q.args({"id": key_id}))
        return bool(status.endswith(" 1"))

    async def key_rotate(self, old_id: str, new: ApiKeyRecord, old_expires_at: float) -> bool:
        async with self._tx() as conn:
            retired = await _fetch(
                conn, "key_retire", id=old_id, new_id=new.id, expires_at=old_expires_at
            )
            if not retired:
                return False
            await _fetch(conn, "key_insert", **_key_params(new))
        return True

    async def server_secret(self, name: str, candidate: str) -> str:
        async with self._tx() as conn:
            await _fetch(conn, "server_secret_init", name=name, value=candidate)
            rows = await _fetch(conn, "server_secret_get", name=name)
        return str(rows[0]["value"])
