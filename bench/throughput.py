"""End-to-end no-op jobs/s through real `joblane worker` processes (SQLite, synchronous=FULL).

The queue is filled first (bulk insert through the storage layer), then the workers start and
the clock runs until every job is completed: claim, run, complete, all through the worker.

    .venv/bin/python bench/throughput.py [--jobs 50000] [--workers 1] [--concurrency 200]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import time
from typing import Any

import asyncpg

from harness import backend_option, cluster, machine
from joblane.core import ids
from joblane.core.job import NewJob
from joblane.storage.factory import storage_for


async def fill(url: str, count: int) -> None:
    storage = storage_for(url)
    await storage.open()
    try:
        for start in range(0, count, 5000):
            batch = [
                NewJob(ids.new_id(ids.JOB), "bench", "noop", {})
                for _ in range(start, min(count, start + 5000))
            ]
            await storage.jobs_insert(batch)
    finally:
        await storage.close()


REMAINING = "SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')"


class Progress:
    """Counts jobs not yet finished over one connection (partial indexes keep it cheap), polling
    slowly while many remain so that measuring does not slow down what is measured."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def remaining(self, conn: Any) -> int:
        if isinstance(conn, sqlite3.Connection):
            return int(conn.execute(REMAINING).fetchone()[0])
        return int(await conn.fetchval(REMAINING))

    async def watch(self, total: int) -> tuple[int, float]:
        """Wait for the first job to finish, then for the last: (jobs timed, seconds)."""
        if self.url.startswith("sqlite:///"):
            conn: Any = sqlite3.connect(self.url.removeprefix("sqlite:///"))
        else:
            conn = await asyncpg.connect(self.url)
        try:
            while (left := await self.remaining(conn)) == total:
                await asyncio.sleep(0.005)
            began, timed = time.perf_counter(), left
            while left > 0:
                await asyncio.sleep(0.5 if left > 10_000 else 0.02)
                left = await self.remaining(conn)
            return timed, time.perf_counter() - began
        finally:
            closing = conn.close()
            if asyncio.iscoroutine(closing):
                await closing


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=200)
    backend_option(parser)
    args = parser.parse_args()
    with cluster(args.backend) as c:
        filled = time.perf_counter()
        asyncio.run(fill(c.database_url, args.jobs))
        filled = time.perf_counter() - filled
        for _ in range(args.workers):
            c.start("worker", "bench_app:app", "--concurrency", str(args.concurrency))
        # the clock starts when the first job is done: process start-up is not throughput
        timed, elapsed = asyncio.run(Progress(c.database_url).watch(args.jobs))
    rate = timed / elapsed
    print(
        f"bulk insert [{args.backend}]: {args.jobs} jobs in batches of 5,000 through the storage "
        f"layer: {filled:.2f}s = {args.jobs / filled:,.0f} jobs/s (durable)"
    )
    print(
        f"throughput [{args.backend}]: {timed} no-op jobs, "
        f"{args.workers} worker process(es), "
        f"concurrency {args.concurrency}: {elapsed:.2f}s = {rate:,.0f} jobs/s ({machine()})"
    )


if __name__ == "__main__":
    main()
