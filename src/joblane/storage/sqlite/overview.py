"""The dashboard's overview on SQLite (`SqliteOverview`, a mixin of `SqliteStorage`). SQL in
`overview.sql`, indexes in migration 0010. The three reads share one read transaction (one
snapshot of the WAL), on the backend's read-only connection.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from joblane.core.overview import (
    FinishBuckets,
    FinishCount,
    OverviewRows,
    QueueStat,
    StateCount,
)
from joblane.core.states import JobState
from joblane.storage.sqlfiles import load
from joblane.storage.sqlite.mixin import SqliteMixin

Q = load("joblane.storage.sqlite", "overview.sql")


def _read_rows(conn: sqlite3.Connection, params: dict[str, Any]) -> OverviewRows:
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        counts = conn.execute(Q["overview_counts"], params).fetchall()
        queues = conn.execute(Q["overview_queues"], params).fetchall()
        finished = conn.execute(Q["overview_finished"], params).fetchall()
    finally:
        if own:
            conn.execute("COMMIT")
    return OverviewRows(
        states=[StateCount(r[0], JobState(r[1]), r[2]) for r in counts],
        queues=[QueueStat(r[0], r[1], r[2], r[3], r[4]) for r in queues],
        finished=[FinishCount(r[0], float(r[1]), r[2], r[3]) for r in finished],
    )


class SqliteOverview(SqliteMixin):
    async def overview_read(
        self, tenant_id: str | None, now: float, buckets: FinishBuckets
    ) -> OverviewRows:
        params = {
            "tenant_id": tenant_id,
            "now": now,
            "since": buckets.since,
            "coarse": buckets.coarse,
            "fine_since": buckets.fine_since,
            "fine": buckets.fine,
        }
        return self._read(lambda c: _read_rows(c, params))
