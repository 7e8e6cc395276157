"""What the webhook outbox costs the writes that finish jobs: microseconds per finished job
through `jobs_finish` (100 outcomes per call, as a worker batches them), in four cases:

- `no trigger`: the outbox trigger removed (the code before webhooks);
- `no endpoint`: the trigger, and no webhook endpoint anywhere (the common case);
- `other tenant`: another tenant has an enabled endpoint (the finishing jobs' tenant none);
- `subscribed`: the jobs' tenant has an endpoint for `*`: every finish writes an event and a
  delivery (the outbox doing its work).

The cases take turns, round after round, so that a busy machine slows them alike; each
measurement starts from an empty jobs table. Claims and inserts are not timed.

    .venv/bin/python bench/webhook_outbox.py [--backend sqlite|postgres] [--jobs 10000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import time
from collections import defaultdict
from typing import Any

import asyncpg

from harness import backend_option, cluster, machine
from joblane.core import ids
from joblane.core.job import Lease, NewJob
from joblane.core.states import JobState
from joblane.core.webhooks import SigningSecret, WebhookEndpoint
from joblane.storage.base import Storage
from joblane.storage.factory import storage_for
from joblane.storage.params import Outcome

CASES = ("no trigger", "no endpoint", "other tenant", "subscribed")
PER_CALL = 100
WIPE = (
    "DELETE FROM webhook_attempts",
    "DELETE FROM webhook_deliveries",
    "DELETE FROM webhook_events",
    "DELETE FROM webhook_endpoints",
    "DELETE FROM jobs",
)


class Database:
    """Direct access beside the storage: wiping tables, removing and restoring the trigger."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite: sqlite3.Connection | None = None
        self.pg: Any = None
        self.trigger_sql = ""

    async def open(self) -> None:
        if self.url.startswith("sqlite:///"):
            self.sqlite = sqlite3.connect(self.url.removeprefix("sqlite:///"), timeout=30)
            row = self.sqlite.execute(
                "SELECT sql FROM sqlite_master WHERE name = 'jobs_webhook_events'"
            ).fetchone()
            self.trigger_sql = row[0]
        else:
            self.pg = await asyncpg.connect(self.url)

    async def close(self) -> None:
        if self.sqlite is not None:
            self.sqlite.close()
        if self.pg is not None:
            await self.pg.close()

    async def execute(self, sql: str) -> None:
        if self.sqlite is not None:
            with self.sqlite:
                self.sqlite.execute(sql)
        else:
            await self.pg.execute(sql)

    async def trigger(self, on: bool) -> None:
        if self.sqlite is not None:
            exists = self.sqlite.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'jobs_webhook_events'"
            ).fetchone()
            if on and not exists:
                await self.execute(self.trigger_sql)
            elif not on and exists:
                await self.execute("DROP TRIGGER jobs_webhook_events")
        else:
            verb = "ENABLE" if on else "DISABLE"
            await self.pg.execute(f"ALTER TABLE jobs {verb} TRIGGER jobs_webhook_events")

    async def wipe(self) -> None:
        for sql in WIPE:
            await self.execute(sql)
        if self.pg is not None:
            await self.pg.execute("VACUUM ANALYZE jobs")


def endpoint(tenant_id: str) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=ids.new_id(ids.WEBHOOK),
        tenant_id=tenant_id,
        url="https://example.com/bench",  # nothing is sent: no dispatcher runs here
        events=("*",),
        enabled=True,
        signing=SigningSecret("whsec_" + "A" * 43 + "="),
        created_at=0.0,
        updated_at=0.0,
    )


async def prepare(storage: Storage, db: Database, case: str, count: int) -> list[Lease]:
    await db.wipe()
    await db.trigger(case != "no trigger")
    if case == "other tenant":
        await storage.webhook_insert(endpoint("tenant-b"))
    if case == "subscribed":
        await storage.webhook_insert(endpoint("bench"))
    for start in range(0, count, 5000):
        jobs = [
            NewJob(ids.new_id(ids.JOB), "bench", "noop", {})
            for _ in range(start, min(count, start + 5000))
        ]
        await storage.jobs_insert(jobs)
    leases: list[Lease] = []
    while len(leases) < count:
        claimed = await storage.jobs_claim("bench-worker", ["noop"], 1000, 3600.0)
        leases.extend(Lease(job.id, job.lease_token or "") for job in claimed)
    return leases


async def finish_all(storage: Storage, leases: list[Lease]) -> float:
    """Seconds to finish every lease, PER_CALL outcomes per call."""
    started = time.perf_counter()
    for start in range(0, len(leases), PER_CALL):
        outcomes = [
            Outcome(lease, JobState.COMPLETED, result={"ok": True})
            for lease in leases[start : start + PER_CALL]
        ]
        done = await storage.jobs_finish(outcomes)
        assert all(stamp is not None for stamp in done)
    return time.perf_counter() - started


async def run(url: str, count: int, rounds: int) -> dict[str, list[float]]:
    storage = storage_for(url)
    db = Database(url)
    await storage.open()
    await db.open()
    timings: dict[str, list[float]] = defaultdict(list)
    try:
        for _ in range(rounds):
            for case in CASES:
                leases = await prepare(storage, db, case, count)
                seconds = await finish_all(storage, leases)
                timings[case].append(seconds / count * 1e6)
        await db.trigger(True)
    finally:
        await db.close()
        await storage.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    backend_option(parser)
    args = parser.parse_args()
    with cluster(args.backend) as c:
        timings = asyncio.run(run(c.database_url, args.jobs, args.rounds))
    base = statistics.median(timings["no trigger"])
    print(
        f"webhook outbox [{args.backend}]: jobs_finish of {args.jobs} jobs, {PER_CALL} per call, "
        f"median of {args.rounds} rounds ({machine()})"
    )
    for case in CASES:
        median = statistics.median(timings[case])
        spread = f"{min(timings[case]):.1f}-{max(timings[case]):.1f}"
        print(
            f"  {case:13s} {median:7.1f} µs/job (rounds {spread}), "
            f"{(median - base) / base * 100:+5.1f}% vs no trigger"
        )


if __name__ == "__main__":
    main()
