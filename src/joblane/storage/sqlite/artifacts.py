"""Artifacts on SQLite (`SqliteArtifacts`, a mixin of `SqliteStorage`). SQL in `artifacts.sql`;
writes go through the backend's single writer, reads are point lookups on the reader."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, TypeVar

from joblane.core.artifact import Artifact
from joblane.core.job import Lease
from joblane.storage.sqlfiles import load
from joblane.storage.sqlite.mixin import SqliteMixin
from joblane.storage.sqlite.rows import dumps

Q = load("joblane.storage.sqlite", "artifacts.sql")
T = TypeVar("T")


def artifact_from_row(row: Sequence[Any]) -> Artifact:
    job_id, name, attempt, path, size, sha256, content_type, created_at = row
    return Artifact(job_id, name, attempt, path, size, sha256, content_type, created_at)


def _reserve(conn: sqlite3.Connection, params: dict[str, Any]) -> bool:
    conn.execute(Q["artifact_replaced"], params)
    return conn.execute(Q["artifact_reserve"], params).fetchone() is not None


def _abandon(conn: sqlite3.Connection, params: dict[str, Any]) -> None:
    conn.execute(Q["artifact_abandon_drop"], params)
    conn.execute(Q["artifact_abandon_queue"], params)


class SqliteArtifacts(SqliteMixin):
    async def artifact_reserve(self, lease: Lease, name: str, path: str, content_type: str) -> bool:
        params = {
            "job_id": lease.job_id,
            "token": lease.token,
            "name": name,
            "path": path,
            "content_type": content_type,
            "now": self.now(),
        }
        return await self._write(lambda c: _reserve(c, params))

    async def artifact_commit(
        self, lease: Lease, name: str, path: str, size: int, sha256: str
    ) -> Artifact | None:
        params = {
            "job_id": lease.job_id,
            "token": lease.token,
            "name": name,
            "path": path,
            "size": size,
            "sha256": sha256,
            "now": self.now(),
        }
        row = await self._write(lambda c: c.execute(Q["artifact_commit"], params).fetchone())
        return None if row is None else artifact_from_row(row)

    async def artifact_abandon(self, job_id: str, name: str, path: str) -> None:
        params = {"job_id": job_id, "name": name, "path": path, "now": self.now()}
        await self._write(lambda c: _abandon(c, params))

    async def artifact_get(self, job_id: str, name: str) -> Artifact | None:
        params = {"job_id": job_id, "name": name}
        row = self._read(lambda c: c.execute(Q["artifact_get"], params).fetchone())
        return None if row is None else artifact_from_row(row)

    async def artifacts_list(self, job_id: str) -> list[Artifact]:
        rows = self._read(lambda c: c.execute(Q["artifacts_list"], {"job_id": job_id}).fetchall())
        return [artifact_from_row(row) for row in rows]

    async def artifact_garbage(self, limit: int) -> list[tuple[int, str]]:
        params = {"limit": limit}
        rows = self._read(lambda c: c.execute(Q["artifact_garbage_take"], params).fetchall())
        return [(int(row[0]), str(row[1])) for row in rows]

    async def artifact_garbage_done(self, ids: Sequence[int]) -> int:
        params = {"ids": dumps(list(ids))}
        return await self._write(lambda c: c.execute(Q["artifact_garbage_done"], params).rowcount)
