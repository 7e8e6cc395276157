"""Tenants, API keys and server secrets on SQLite (`SqliteTenants`, a mixin of `SqliteStorage`).
SQL in `tenants.sql`; writes go through the backend's single writer."""

from __future__ import annotations

import sqlite3
from typing import Any, TypeVar

import orjson

from joblane.core.tenant import Tenant
from joblane.storage.params import ApiKeyRecord
from joblane.storage.sqlfiles import load
from joblane.storage.sqlite.mixin import SqliteMixin
from joblane.storage.sqlite.rows import dumps, key_from_row
from joblane.storage.tenantmap import key_params, tenant_from_row, tenant_params

Q = load("joblane.storage.sqlite", "tenants.sql")
T = TypeVar("T")


def _key_params(key: ApiKeyRecord) -> dict[str, Any]:
    return key_params(key, dumps(list(key.scopes)))


def _put(conn: sqlite3.Connection, tenant: Tenant, now: float) -> Tenant:
    params = tenant_params(tenant)
    if params["job_types"] is not None:
        params["job_types"] = dumps(params["job_types"])
    row = conn.execute(Q["tenant_put"], {**params, "now": now}).fetchone()
    return tenant_from_row(row, orjson.loads)


def _rotate(conn: sqlite3.Connection, params: dict[str, Any], new: ApiKeyRecord) -> bool:
    if conn.execute(Q["key_retire"], params).rowcount != 1:
        return False
    conn.execute(Q["key_insert"], _key_params(new))
    return True


def _secret(conn: sqlite3.Connection, name: str, candidate: str, now: float) -> str:
    conn.execute(Q["server_secret_init"], {"name": name, "value": candidate, "now": now})
    return str(conn.execute(Q["server_secret_get"], {"name": name}).fetchone()[0])


class SqliteTenants(SqliteMixin):
    def _rows(self, query: str, params: dict[str, Any]) -> list[sqlite3.Row]:
        return self._read(lambda c: c.execute(Q[query], params).fetchall())

    # -- tenants -----------------------------------------------------------------------------
    async def tenant_get(self, tenant_id: str) -> Tenant | None:
        rows = self._rows("tenant_get", {"id": tenant_id})
        return tenant_from_row(rows[0], orjson.loads) if rows else None

    async def tenants_list(self) -> list[Tenant]:
        return [tenant_from_row(r, orjson.loads) for r in self._rows("tenants_list", {})]

    async def tenant_put(self, tenant: Tenant) -> Tenant:
        now = self.now()
        return await self._write(lambda c: _put(c, tenant, now))

    # -- API keys ----------------------------------------------------------------------------
    async def key_insert(self, key: ApiKeyRecord) -> None:
        params = _key_params(key)
        await self._write(lambda c: c.execute(Q["key_insert"], params))

    async def key_get(self, key_id: str) -> ApiKeyRecord | None:
        rows = self._rows("key_get", {"id": key_id})
        return key_from_row(rows[0]) if rows else None

    async def key_by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        rows = self._rows("key_by_hash", {"key_hash": key_hash})
        return key_from_row(rows[0]) if rows else None

    async def keys_list(self, tenant_id: str | None) -> list[ApiKeyRecord]:
        if tenant_id is None:
            rows = self._rows("keys_list", {})
        else:
            rows = self._rows("keys_list_for_tenant", {"tenant_id": tenant_id})
        return [key_from_row(r) for r in rows]

    async def key_revoke(self, key_id: str) -> bool:
        params = {"id": key_id, "now": self.now()}
        return await self._write(lambda c: c.execute(Q["key_revoke"], params).rowcount == 1)

    async def key_rotate(self, old_id: str, new: ApiKeyRecord, old_expires_at: float) -> bool:
        params = {"id": old_id, "new_id": new.id, "expires_at": old_expires_at, "now": self.now()}
        return await self._write(lambda c: _rotate(c, params, new))

    async def server_secret(self, name: str, candidate: str) -> str:
        now = self.now()
        return await self._write(lambda c: _secret(c, name, candidate, now))
