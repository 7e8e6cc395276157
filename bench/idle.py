"""Queries per second an idle worker sends to PostgreSQL (transactions committed in its
database, from pg_stat_database, over a quiet window; the two sampling queries subtracted).

    .venv/bin/python bench/idle.py [--seconds 30] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import time

import asyncpg

from harness import cluster, machine


async def transactions(url: str, database: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        value = await conn.fetchval(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1",
            database,
        )
        return int(value)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with cluster("postgres") as c:
        assert c.postgres_db is not None
        for _ in range(args.workers):
            c.start("worker", "bench_app:app")
        time.sleep(5)  # start-up (registration, first claims, listener) is not idleness
        before = asyncio.run(transactions(c.database_url, c.postgres_db))
        time.sleep(args.seconds)
        after = asyncio.run(transactions(c.database_url, c.postgres_db))
    overhead = 3  # the sampling query's own transactions (measured with --workers 0)
    per_second = (after - before - overhead) / args.seconds / max(1, args.workers)
    print(
        f"idle worker [postgres]: {per_second:.2f} queries/s per worker "
        f"({args.workers} worker(s), {args.seconds:.0f} s window; {machine()})"
    )


if __name__ == "__main__":
    main()
