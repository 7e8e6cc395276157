"""Job logs on PostgreSQL (`PostgresJobLogs`, a mixin of `PostgresStorage`). SQL in
`observe.sql`: a flush is two statements (trim, insert) in one transaction for all its lines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from joblane.core.joblog import LogBatch, LogLine, QueueStats
from joblane.storage.postgres.mixin import PostgresMixin
from joblane.storage.sqlfiles import load_positional

Q = load_positional("joblane.storage.postgres", "observe.sql")


def line_from_record(row: asyncpg.Record) -> LogLine:
    job_id, attempt, seq, at, level, logger, message = row
    return LogLine(job_id, attempt, seq, at, level, logger, message)


def _insert_params(batches: Sequence[LogBatch]) -> dict[str, list[Any]]:
    lines = [ln for b in batches for ln in b.lines if ln.seq >= b.first_seq]
    return {
        "job_ids": [ln.job_id for ln in lines],
        "attempts": [ln.attempt for ln in lines],
        "seqs": [ln.seq for ln in lines],
        "ats": [ln.at for ln in lines],
        "levels": [ln.level for ln in lines],
        "loggers": [ln.logger for ln in lines],
        "messages": [ln.message for ln in lines],
    }


class PostgresJobLogs(PostgresMixin):
    async def job_logs_write(self, batches: Sequence[LogBatch]) -> None:
        if not batches:
            return
        trim = {
            "job_ids": [b.job_id for b in batches],
            "attempts": [b.attempt for b in batches],
            "first_seqs": [b.first_seq for b in batches],
        }
        insert = _insert_params(batches)
        async with self._tx() as conn:
            if any(b.first_seq > 1 for b in batches):
                await conn.execute(Q["job_logs_trim"].sql, *Q["job_logs_trim"].args(trim))
            if insert["seqs"]:
                await conn.execute(Q["job_logs_insert"].sql, *Q["job_logs_insert"].args(insert))

    async def job_logs(self, job_id: str, attempt: int | None, limit: int) -> list[LogLine]:
        if attempt is None:
            q, params = Q["job_logs_all"], {"job_id": job_id, "limit": limit}
        else:
            q = Q["job_logs_attempt"]
            params = {"job_id": job_id, "attempt": attempt, "limit": limit}
        async with self._conn() as conn:
            rows = await conn.fetch(q.sql, *q.args(params))
        return [line_from_record(row) for row in rows]

    async def job_trace_put(self, job_id: str, traceparent: str, tracestate: str | None) -> None:
        q = Q["job_trace_put"]
        params = {"job_id": job_id, "traceparent": traceparent, "tracestate": tracestate}
        async with self._conn() as conn:
            await conn.execute(q.sql, *q.args(params))

    async def job_trace_get(self, job_id: str) -> tuple[str, str | None] | None:
        q = Q["job_trace_get"]
        async with self._conn() as conn:
            row = await conn.fetchrow(q.sql, *q.args({"job_id": job_id}))
        return None if row is None else (str(row[0]), row[1])

    async def queue_stats(self) -> QueueStats:
        async with self._conn() as conn:
            rows = await conn.fetch(Q["queue_stats"].sql)
            now = rows[0][3] if rows else await conn.fetchval("SELECT joblane_now()")
        types = tuple((str(r[0]), int(r[1]), float(r[2])) for r in rows)
        return QueueStats(float(now), types)
