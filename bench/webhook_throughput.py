"""`throughput.py` with and without webhooks, taking turns: no-op jobs/s through real
`joblane worker` processes, (a) as shipped (the outbox trigger in place, every worker process
also running the webhook dispatcher, no endpoint anywhere) and (b) the trigger dropped and the
dispatcher off (what the code did before webhooks). Nobody listens, so (a) - (b) is what the
common case pays for webhooks.

    .venv/bin/python bench/webhook_throughput.py [--backend sqlite|postgres] [--jobs 50000]
        [--workers 2] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics

import asyncpg

from harness import backend_option, cluster, machine
from throughput import Progress, fill

DROP = "DROP TRIGGER jobs_webhook_events"
DROP_PG = "DROP TRIGGER jobs_webhook_events ON jobs"


async def drop_trigger(url: str) -> None:
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        with conn:
            conn.execute(DROP)
        conn.close()
        return
    pg = await asyncpg.connect(url)
    try:
        await pg.execute(DROP_PG)
    finally:
        await pg.close()


def one_run(backend: str, jobs: int, workers: int, concurrency: int, webhooks: bool) -> float:
    env = {} if webhooks else {"JOBLANE_WEBHOOK_DISPATCH": "false"}
    with cluster(backend, **env) as c:
        if not webhooks:
            asyncio.run(drop_trigger(c.database_url))
        asyncio.run(fill(c.database_url, jobs))
        for _ in range(workers):
            c.start("worker", "bench_app:app", "--concurrency", str(concurrency))
        timed, elapsed = asyncio.run(Progress(c.database_url).watch(jobs))
    return timed / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    backend_option(parser)
    args = parser.parse_args()
    rates: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(args.rounds):
        for webhooks in (False, True):
            rate = one_run(args.backend, args.jobs, args.workers, args.concurrency, webhooks)
            rates[webhooks].append(rate)
    print(
        f"throughput with/without webhooks [{args.backend}]: {args.jobs} no-op jobs, "
        f"{args.workers} worker process(es), concurrency {args.concurrency} ({machine()})"
    )
    for webhooks, label in ((False, "without (trigger dropped)"), (True, "with webhooks")):
        runs = ", ".join(f"{r:,.0f}" for r in rates[webhooks])
        print(f"  {label:26s} median {statistics.median(rates[webhooks]):,.0f} jobs/s ({runs})")


if __name__ == "__main__":
    main()
