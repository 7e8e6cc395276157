"""Job logs on SQLite (`SqliteJobLogs`, a mixin of `SqliteStorage`). SQL in `observe.sql`; a
flush is one write through the backend's single writer, whatever the number of lines."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from joblane.core.joblog import LogBatch, LogLine, QueueStats
from joblane.storage.sqlfiles import load
from joblane.storage.sqlite.mixin import SqliteMixin

Q = load("joblane.storage.sqlite", "observe.sql")


def line_from_row(row: Sequence[Any]) -> LogLine:
    job_id, attempt, seq, at, level, logger, message = row
    return LogLine(job_id, attempt, seq, at, level, logger, message)


def _write_batches(conn: sqlite3.Connection, batches: Sequence[LogBatch]) -> None:
    for batch in batches:
        key = {"job_id": batch.job_id, "attempt": batch.attempt}
        conn.execute(Q["job_logs_trim"], {**key, "first_seq": batch.first_seq})
        conn.executemany(
            Q["job_logs_insert"],
            [
                {**key, "seq": ln.seq, "at": ln.at, "level": ln.level, "logger": ln.logger,
                 "message": ln.message}
                for ln in batch.lines
                if ln.seq >= batch.first_seq
            ],
        )  # fmt: skip


class SqliteJobLogs(SqliteMixin):
    async def job_logs_write(self, batches: Sequence[LogBatch]) -> None:
        if batches:
            await self._write(lambda c: _write_batches(c, batches))

    async def job_logs(self, job_id: str, attempt: int | None, limit: int) -> list[LogLine]:
        if attempt is None:
            query, params = Q["job_logs_all"], {"job_id": job_id, "limit": limit}
        else:
            query = Q["job_logs_attempt"]
            params = {"job_id": job_id, "attempt": attempt, "limit": limit}
        rows = self._read(lambda c: c.execute(query, params).fetchall())
        return [line_from_row(row) for row in rows]

    async def job_trace_put(self, job_id: str, traceparent: str, tracestate: str | None) -> None:
        params = {"job_id": job_id, "traceparent": traceparent, "tracestate": tracestate}
        await self._write(lambda c: c.execute(Q["job_trace_put"], params))

    async def job_trace_get(self, job_id: str) -> tuple[str, str | None] | None:
        row = self._read(lambda c: c.execute(Q["job_trace_get"], {"job_id": job_id}).fetchone())
        return None if row is None else (str(row[0]), row[1])

    async def queue_stats(self) -> QueueStats:
        now = self.now()
        rows = self._read(lambda c: c.execute(Q["queue_stats"], {"now": now}).fetchall())
        return QueueStats(now, tuple((str(t), int(n), float(oldest)) for t, n, oldest in rows))
