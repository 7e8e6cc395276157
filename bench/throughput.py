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


def completed(url: str) -> int:
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            row = conn.execute("SELECT count(*) FROM jobs WHERE state = 'completed'").fetchone()
            return int(row[0])

    async def count() -> int:
        conn = await asyncpg.connect(url)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM jobs WHERE state = 'completed'"))
        finally:
            await conn.close()

    return asyncio.run(count())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=200)
    backend_option(parser)
    args = parser.parse_args()
    with cluster(args.backend) as c:
        asyncio.run(fill(c.database_url, args.jobs))
        for _ in range(args.workers):
            c.start("worker", "bench_app:app", "--concurrency", str(args.concurrency))
        while (first := completed(c.database_url)) == 0:  # process start-up is not throughput
            time.sleep(0.01)
        began = time.perf_counter()
        while (done := completed(c.database_url)) < args.jobs:
            time.sleep(0.05)
        elapsed = time.perf_counter() - began
    rate = (args.jobs - first) / elapsed
    print(
        f"throughput [{args.backend}]: {args.jobs - first} no-op jobs, "
        f"{args.workers} worker process(es), "
        f"concurrency {args.concurrency}: {elapsed:.2f}s = {rate:,.0f} jobs/s ({machine()}); "
        f"completed={done}"
    )


if __name__ == "__main__":
    main()
