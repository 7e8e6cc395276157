"""Retention on SQLite (`SqliteRetention`, a mixin of `SqliteStorage`): purge expired jobs and
batches chunk by chunk, leaving a tombstone per purged id. SQL in `retention.sql`.

Each call is one short write through the backend's single writer (shared with submissions and
claims); the leader task pauses between calls. A batch goes in two steps: its row first (the
whole batch answers 410 at once, and nothing can re-open it), then its items, chunk by chunk,
and last its counts and errors.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, TypeVar

from joblane.core.retention import Cutoffs
from joblane.storage.sqlfiles import load
from joblane.storage.sqlite.mixin import SqliteMixin
from joblane.storage.sqlite.rows import dumps

Q = load("joblane.storage.sqlite", "retention.sql")
T = TypeVar("T")
PENDING_BATCHES = 16  # batch purges whose items one chunk may take


def _cutoff_params(cutoffs: Cutoffs) -> dict[str, Any]:
    return {"default_before": cutoffs.default, "cutoffs": dumps(cutoffs.by_tenant)}


def _bury(conn: sqlite3.Connection, purged: Sequence[sqlite3.Row], now: float) -> None:
    """A tombstone per purged (id, tenant_id), in the transaction that purged them."""
    params = [{"id": row[0], "tenant_id": row[1], "now": now} for row in purged]
    conn.executemany(Q["tombstone_put"], params)


def expire_jobs(conn: sqlite3.Connection, cutoffs: Cutoffs, limit: int, now: float) -> int:
    purged = conn.execute(Q["jobs_expire"], {**_cutoff_params(cutoffs), "limit": limit})
    rows = purged.fetchall()
    _bury(conn, rows, now)
    return len(rows)


def expire_batches(conn: sqlite3.Connection, cutoffs: Cutoffs, limit: int, now: float) -> list[str]:
    expired = conn.execute(Q["batches_expired"], {**_cutoff_params(cutoffs), "limit": limit})
    rows = expired.fetchall()
    for row in rows:
        conn.execute(Q["batch_row_delete"], {"id": row[0]})
        conn.execute(Q["batch_purge_begin"], {"id": row[0], "now": now})
    _bury(conn, rows, now)
    return [row[0] for row in rows]


def purge_batch_items(conn: sqlite3.Connection, limit: int, now: float) -> int:
    window = {"batches": PENDING_BATCHES}
    rows = conn.execute(Q["batch_items_expire"], {**window, "limit": limit}).fetchall()
    _bury(conn, rows, now)
    done = dumps([row[0] for row in conn.execute(Q["batch_purges_done"], window)])
    for query in ("batch_counts_drop", "batch_errors_drop", "batch_purges_drop"):
        conn.execute(Q[query], {"ids": done})
    return len(rows)


class SqliteRetention(SqliteMixin):
    async def jobs_expire(self, cutoffs: Cutoffs, limit: int) -> int:
        now = self.now()
        return await self._write(lambda c: expire_jobs(c, cutoffs, limit, now))

    async def batches_expire(self, cutoffs: Cutoffs, limit: int) -> list[str]:
        now = self.now()
        return await self._write(lambda c: expire_batches(c, cutoffs, limit, now))

    async def batch_items_purge(self, limit: int) -> int:
        now = self.now()
        return await self._write(lambda c: purge_batch_items(c, limit, now))

    async def tombstone_get(self, resource_id: str, tenant_id: str | None) -> float | None:
        params = {"id": resource_id, "tenant_id": tenant_id}
        row = self._read(lambda c: c.execute(Q["tombstone_get"], params).fetchone())
        return None if row is None else float(row[0])

    async def tombstones_purge(self, purged_before: float, limit: int) -> int:
        params = {"before": purged_before, "limit": limit}
        return await self._write(lambda c: c.execute(Q["tombstones_purge"], params).rowcount)
