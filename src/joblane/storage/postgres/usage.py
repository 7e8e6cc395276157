"""Usage metering on PostgreSQL: counting a committed batch's items inside its transaction, and
reading a tenant's days, summed over the shards (`PostgresUsage`, a mixin of `PostgresStorage`).
Single submissions are counted by `jobs_insert` itself, items processed by `jobs_complete` and
`jobs_fail` (queries.sql)."""

from __future__ import annotations

from datetime import date

from joblane.core.usage import UsageDay
from joblane.storage.postgres.connection import Conn
from joblane.storage.postgres.mixin import PostgresMixin
from joblane.storage.sqlfiles import load_positional

Q = load_positional("joblane.storage.postgres", "usage.sql")


async def count_submitted_batch(conn: Conn, tenant_id: str, at: float, count: int) -> None:
    """Inside the transaction that commits the batch: both commit or neither does."""
    if count > 0:
        q = Q["usage_add_submitted"]
        await conn.execute(q.sql, *q.args({"tenant_id": tenant_id, "at": at, "count": count}))


class PostgresUsage(PostgresMixin):
    """The usage reads of `PostgresStorage`, over its connection plumbing."""

    async def usage_days(self, tenant_id: str, first_day: date, last_day: date) -> list[UsageDay]:
        q = Q["usage_days"]
        params = {"tenant_id": tenant_id, "first_day": first_day, "last_day": last_day}
        async with self._conn() as conn:
            rows = await conn.fetch(q.sql, *q.args(params))
        return [UsageDay(r["day"], r["jobs_submitted"], r["items_processed"]) for r in rows]
