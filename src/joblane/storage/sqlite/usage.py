"""Usage metering on SQLite: counting accepted jobs inside the write that accepts them, and
reading a tenant's days (`SqliteUsage`, a mixin of `SqliteStorage`). Items processed are counted
by the trigger `jobs_usage_processed` (migration 0004)."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import TypeVar

from joblane.core.usage import UsageDay
from joblane.storage.sqlfiles import load
from joblane.storage.sqlite.mixin import SqliteMixin

Q = load("joblane.storage.sqlite", "usage.sql")
T = TypeVar("T")


def count_submitted(conn: sqlite3.Connection, tenant_ids: Iterable[str], at: float) -> None:
    """One accepted job per tenant id given, created at `at`; on the writer thread, inside the
    SAVEPOINT of the write that inserts them: both commit or neither does."""
    params = [
        {"tenant_id": tenant_id, "at": at, "count": count}
        for tenant_id, count in Counter(tenant_ids).items()
    ]
    conn.executemany(Q["usage_add_submitted"], params)


def count_submitted_batch(conn: sqlite3.Connection, tenant_id: str, at: float, count: int) -> None:
    if count > 0:
        conn.execute(Q["usage_add_submitted"], {"tenant_id": tenant_id, "at": at, "count": count})


class SqliteUsage(SqliteMixin):
    """The usage reads of `SqliteStorage`, over its read-only connection."""

    async def usage_days(self, tenant_id: str, first_day: date, last_day: date) -> list[UsageDay]:
        params = {
            "tenant_id": tenant_id,
            "first_day": first_day.isoformat(),
            "last_day": last_day.isoformat(),
        }
        rows = self._read(lambda c: c.execute(Q["usage_days"], params).fetchall())
        return [UsageDay(date.fromisoformat(row[0]), row[1], row[2]) for row in rows]
