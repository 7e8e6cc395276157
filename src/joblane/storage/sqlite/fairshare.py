"""Fair share on SQLite: what the claim may take of the jobs of tenants with `max_running`
(`capped_picks`), and `SqliteFairShare`, a mixin of `SqliteStorage`. SQL in `fairshare.sql`.

A capped tenant's queued jobs never reach the plain claim (they wait in the tenant's lane, its
batches are skipped), so one tenant's backlog costs other tenants' claims nothing; a tenant at
its cap costs one count of its running jobs.
"""

from __future__ import annotations

import sqlite3
from typing import Any, TypeVar

from joblane.storage.sqlfiles import load
from joblane.storage.sqlite.mixin import SqliteMixin
from joblane.storage.sqlite.rows import dumps

Q = load("joblane.storage.sqlite", "fairshare.sql")
T = TypeVar("T")
Pick = tuple[int, float, str]  # (-priority, scheduled_at, id): claim order


def capped_picks(conn: sqlite3.Connection, types: str, limit: int, now: float) -> str:
    """Ids (JSON) of at most `limit` queued jobs that capped tenants may start now: of each, at
    most `max_running - running` from its lane and its open batches, its best first; the
    tenants take turns, who runs least first. Runs on the writer thread, in the claim's
    transaction."""
    if conn.execute(Q["any_tenant_capped"]).fetchone() is None:
        return "[]"  # no tenant has a cap: the claim as before fair share
    turns: list[tuple[int, int, Pick]] = []  # (turn, tenant, pick)
    tenants = 0
    for tenant_id, room in conn.execute(Q["tenants_with_room"]).fetchall():
        mine = sorted(_tenant_picks(conn, tenant_id, types, min(room, limit), now))[:room]
        turns.extend((turn, tenants, pick) for turn, pick in enumerate(mine))
        tenants += bool(mine)
        if tenants >= limit:  # enough tenants to fill the claim, one job each
            break
    return dumps([pick[2] for _, _, pick in sorted(turns)[:limit]])


def _tenant_picks(
    conn: sqlite3.Connection, tenant_id: str, types: str, limit: int, now: float
) -> list[Pick]:
    params = {"tenant_id": tenant_id, "types": types, "limit": limit, "now": now}
    rows = conn.execute(Q["tenant_lane_picks"], params).fetchall()
    for batch_id, room in conn.execute(Q["tenant_batches_with_room"], params).fetchall():
        item_params = {**params, "batch_id": batch_id, "limit": min(room, limit)}
        rows += conn.execute(Q["batch_item_picks"], item_params).fetchall()
    return [(-priority, scheduled_at, job_id) for job_id, priority, scheduled_at in rows]


class SqliteFairShare(SqliteMixin):
    async def tenant_running(self, tenant_id: str) -> int:
        params: dict[str, Any] = {"tenant_id": tenant_id}
        return int(self._read(lambda c: c.execute(Q["tenant_running"], params).fetchone()[0]))
