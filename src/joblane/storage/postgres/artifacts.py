"""Artifacts on PostgreSQL (`PostgresArtifacts`, a mixin of `PostgresStorage`). SQL in
`artifacts.sql`: each operation is one statement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from joblane.core.artifact import Artifact
from joblane.core.job import Lease
from joblane.storage.postgres.mixin import PostgresMixin
from joblane.storage.sqlfiles import load_positional

Q = load_positional("joblane.storage.postgres", "artifacts.sql")


def artifact_from_record(row: asyncpg.Record) -> Artifact:
    job_id, name, attempt, path, size, sha256, content_type, created_at = row
    return Artifact(job_id, name, attempt, path, size, sha256, content_type, created_at)


class PostgresArtifacts(PostgresMixin):
    async def _artifact_rows(self, query: str, **params: Any) -> list[asyncpg.Record]:
        q = Q[query]
        async with self._conn() as conn:
            return list(await conn.fetch(q.sql, *q.args(params)))

    async def artifact_reserve(self, lease: Lease, name: str, path: str, content_type: str) -> bool:
        rows = await self._artifact_rows(
            "artifact_reserve",
            job_id=lease.job_id,
            token=lease.token,
            name=name,
            path=path,
            content_type=content_type,
        )
        return bool(rows)

    async def artifact_commit(
        self, lease: Lease, name: str, path: str, size: int, sha256: str
    ) -> Artifact | None:
        rows = await self._artifact_rows(
            "artifact_commit",
            job_id=lease.job_id,
            token=lease.token,
            name=name,
            path=path,
            size=size,
            sha256=sha256,
        )
        return artifact_from_record(rows[0]) if rows else None

    async def artifact_abandon(self, job_id: str, name: str, path: str) -> None:
        await self._artifact_rows("artifact_abandon", job_id=job_id, name=name, path=path)

    async def artifact_get(self, job_id: str, name: str) -> Artifact | None:
        rows = await self._artifact_rows("artifact_get", job_id=job_id, name=name)
        return artifact_from_record(rows[0]) if rows else None

    async def artifacts_list(self, job_id: str) -> list[Artifact]:
        rows = await self._artifact_rows("artifacts_list", job_id=job_id)
        return [artifact_from_record(row) for row in rows]

    async def artifact_garbage(self, limit: int) -> list[tuple[int, str]]:
        rows = await self._artifact_rows("artifact_garbage_take", limit=limit)
        return [(int(row["id"]), str(row["path"])) for row in rows]

    async def artifact_garbage_done(self, ids: Sequence[int]) -> int:
        q = Q["artifact_garbage_done"]
        async with self._conn() as conn:
            status = await conn.execute(q.sql, *q.args({"ids": list(ids)}))
        return int(status.split()[-1])
