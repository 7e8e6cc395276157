"""What migration 0010 (dashboard counters and indexes) costs every job write on PostgreSQL.

A fresh database per variant, all migrated; then `without 0010` drops the objects of 0010 again
(the `job_counts` triggers and the indexes jobs_finished_at, jobs_queued_by_type,
jobs_queued_by_tenant, jobs_by_type, jobs_metadata), `indexes only` the triggers, `counters
only` the indexes. Each round, in each database in turn (so
load from anything else on the machine falls on both alike): `jobs_insert` of `--jobs` jobs
(`--chunk` per call, 3 tenants, 5 types, two metadata keys), then `--claimers` concurrent loops
of `jobs_claim` (`--batch` at a time) and `jobs_finish` (completed) until none is left. Reports
the median over rounds of insert and claim+finish throughput (jobs/s).

    .venv/bin/python bench/dashboard_writes.py [--rounds 5] [--jobs 5000] [--chunk 1]
        [--claimers 4] [--batch 10] [--variants "with 0010,indexes only,counters only,..."]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from dataclasses import dataclass, field

from dashboard import admin_sql, loadavg, url_for
from harness import machine
from joblane.core import ids
from joblane.core.job import Lease, NewJob
from joblane.core.states import JobState
from joblane.storage.params import Outcome
from joblane.storage.postgres.backend import PostgresStorage
from joblane.storage.postgres.connection import PostgresOptions

DROP_COUNTERS = """
DROP TRIGGER jobs_counts_insert ON jobs;
DROP TRIGGER jobs_counts_update ON jobs;
DROP TRIGGER jobs_counts_delete ON jobs;
"""
DROP_INDEXES = """
DROP INDEX jobs_finished_at, jobs_queued_by_type, jobs_queued_by_tenant, jobs_by_type,
    jobs_metadata;
"""
UNDO = {
    "with 0010": "",
    "indexes only": DROP_COUNTERS,
    "counters only": DROP_INDEXES,
    "without 0010": DROP_COUNTERS + DROP_INDEXES,
}
TYPES = [f"type_{n}" for n in range(5)]


@dataclass
class Variant:
    name: str
    database: str
    storage: PostgresStorage | None = None
    inserts: list[float] = field(default_factory=list)
    drains: list[float] = field(default_factory=list)


def new_jobs(count: int) -> list[NewJob]:
    return [
        NewJob(
            id=ids.new_id(ids.JOB),
            tenant_id=f"tenant-{n % 3}",
            type=TYPES[n % len(TYPES)],
            input={"n": n},
            metadata={"customer": f"cust-{n % 500}", "region": "eu"},
        )
        for n in range(count)
    ]


async def insert(storage: PostgresStorage, count: int, chunk: int) -> float:
    jobs = new_jobs(count)
    started = time.perf_counter()
    for start in range(0, count, chunk):
        await storage.jobs_insert(jobs[start : start + chunk])
    return count / (time.perf_counter() - started)


async def drain(storage: PostgresStorage, count: int, claimers: int, batch: int) -> float:
    async def loop(worker: str) -> None:
        while claimed := await storage.jobs_claim(worker, TYPES, batch, 60.0):
            outcomes = []
            for job in claimed:
                assert job.lease_token is not None
                outcomes.append(Outcome(Lease(job.id, job.lease_token), JobState.COMPLETED))
            await storage.jobs_finish(outcomes)

    started = time.perf_counter()
    await asyncio.gather(*(loop(f"wrk_{n}") for n in range(claimers)))
    return count / (time.perf_counter() - started)


async def open_variant(variant: Variant, claimers: int) -> None:
    await admin_sql(f'DROP DATABASE IF EXISTS "{variant.database}" WITH (FORCE)')
    await admin_sql(f'CREATE DATABASE "{variant.database}"')
    storage = PostgresStorage(
        PostgresOptions(url_for(variant.database), max_connections=claimers + 2)
    )
    await storage.open()
    await storage.migrate()
    if UNDO[variant.name]:
        async with storage._tx() as conn:
            await conn.execute(UNDO[variant.name])
    variant.storage = storage


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--chunk", type=int, default=1)
    parser.add_argument("--claimers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--variants", default="with 0010,without 0010", help=", ".join(UNDO))
    args = parser.parse_args()
    pid = os.getpid()
    variants = [
        Variant(name, f"joblane_bench_writes_{n}_{pid}")
        for n, name in enumerate(args.variants.split(","))
    ]
    before = loadavg()
    try:
        for variant in variants:
            await open_variant(variant, args.claimers)
        for _ in range(args.rounds):
            for variant in variants:
                assert variant.storage is not None
                variant.inserts.append(await insert(variant.storage, args.jobs, args.chunk))
                variant.drains.append(
                    await drain(variant.storage, args.jobs, args.claimers, args.batch)
                )
    finally:
        for variant in variants:
            if variant.storage is not None:
                await variant.storage.close()
            await admin_sql(f'DROP DATABASE IF EXISTS "{variant.database}" WITH (FORCE)')
    print(
        f"{args.rounds} rounds of {args.jobs} jobs, inserts of {args.chunk}, {args.claimers} "
        f"claimers x {args.batch}; {machine()}; load {before} / {loadavg()}"
    )
    for v in variants:
        print(
            f"  {v.name:14} insert {statistics.median(v.inserts):7.0f} jobs/s   "
            f"claim+finish {statistics.median(v.drains):7.0f} jobs/s   "
            f"(rounds: {', '.join(f'{x:.0f}' for x in v.drains)})"
        )


if __name__ == "__main__":
    asyncio.run(main())
