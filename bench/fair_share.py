"""Fair share: what a claim costs another tenant while one tenant with `max_running` has a
backlog of 100,000 queued jobs (in-process, through the storage layer, on a fresh database).

    .venv/bin/python bench/fair_share.py [--backend postgres] [--backlog 100000] [--claims 300]

Scenarios, each on its own database:
- none: tenant B alone. Each round queues one job of B, times the claim (limit 10), completes it.
  Also timed: the idle worker's probe ("anything claimable?") once nothing is left.
- capped: tenant A (max_running 5) has the backlog and runs 5 jobs; older and more urgent than
  B's. The same rounds: B's job must come back from every claim, at the same cost as `none`.
  Also timed: the idle worker's probe ("anything claimable?") with A at its cap.
- capped later: the backlog is queued first, then A gets its cap (timed: the backlog moves into
  A's lane); then B's rounds, at once (PostgreSQL: until (auto)vacuum, the plain claim index
  still holds the moved rows' dead entries) and, on PostgreSQL, after a VACUUM.
Every other backlog is vacuumed (PostgreSQL) before it is measured, as autovacuum would.
- uncapped: the same backlog without a cap (before fair share): B's job waits behind it.
- below cap: A's cap is 1,000,000 and nothing runs; claims of A's own jobs (the capped step).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable

from harness import backend_option, cluster, machine, percentile
from joblane.core import ids
from joblane.core.job import Job, Lease, NewJob
from joblane.core.states import JobState
from joblane.core.tenant import Tenant, TenantSettings
from joblane.storage.base import Storage
from joblane.storage.factory import storage_for
from joblane.storage.params import Outcome

A, B = "flood", "quiet"
TYPES = ["noop"]


def job(tenant_id: str, priority: int = 0) -> NewJob:
    return NewJob(ids.new_id(ids.JOB), tenant_id, "noop", {}, priority=priority)


async def set_cap(storage: Storage, tenant_id: str, max_running: int | None) -> float:
    began = time.perf_counter()
    await storage.tenant_put(Tenant(tenant_id, "", 0, 0, TenantSettings(max_running=max_running)))
    return time.perf_counter() - began


async def flood(storage: Storage, count: int) -> None:
    for start in range(0, count, 5000):
        await storage.jobs_insert(
            [job(A, priority=5) for _ in range(start, min(count, start + 5000))]
        )


async def finish(storage: Storage, jobs: list[Job]) -> None:
    outcomes = [Outcome(Lease(j.id, j.lease_token or ""), JobState.COMPLETED) for j in jobs]
    await storage.jobs_finish(outcomes)


async def timed(call: Callable[[], Awaitable[object]]) -> tuple[float, object]:
    began = time.perf_counter()
    result = await call()
    return (time.perf_counter() - began) * 1000, result


async def rounds_of_b(storage: Storage, claims: int) -> tuple[list[float], int]:
    """(claim latencies in ms, claims that returned B's job)."""
    latencies, served = [], 0
    for _ in range(claims):
        (queued,) = await storage.jobs_insert([job(B)])
        ms, result = await timed(lambda: storage.jobs_claim("bench", TYPES, 10, 60.0))
        claimed = result if isinstance(result, list) else []
        latencies.append(ms)
        served += any(j.id == queued.id for j in claimed)
        await finish(storage, claimed)
    return latencies, served


async def rounds_of_a(storage: Storage, claims: int) -> list[float]:
    latencies = []
    for _ in range(claims):
        ms, result = await timed(lambda: storage.jobs_claim("bench", TYPES, 10, 60.0))
        latencies.append(ms)
        await finish(storage, result if isinstance(result, list) else [])
    return latencies


def summary(latencies: list[float]) -> str:
    return f"p50 {percentile(latencies, 50):.2f} ms, p95 {percentile(latencies, 95):.2f} ms"


async def probe_ms(storage: Storage) -> float:
    """One "anything claimable?" probe of an idle worker (each backend's `_claimable`)."""
    probe = storage._claimable  # type: ignore[attr-defined]
    began = time.perf_counter()
    result = probe(TYPES)
    if asyncio.iscoroutine(result):
        result = await result
    assert not result, "nothing should be claimable"
    return (time.perf_counter() - began) * 1000


async def vacuum(url: str) -> None:
    """PostgreSQL: what autovacuum would do soon after a big change (SQLite keeps no dead rows)."""
    if url.startswith("postgresql://"):
        import asyncpg

        conn = await asyncpg.connect(url)
        await conn.execute("VACUUM ANALYZE jobs")
        await conn.close()


async def b_rounds(storage: Storage, name: str, claims: int) -> str:
    latencies, served = await rounds_of_b(storage, claims)
    return f"{name}: B's claims {summary(latencies)}; B's job claimed {served}/{claims}"


async def scenario(url: str, name: str, backlog: int, claims: int) -> str:
    storage = storage_for(url)
    await storage.open()
    try:
        if name == "none":
            rounds = await b_rounds(storage, name, claims)
            probes = [await probe_ms(storage) for _ in range(100)]
            return rounds + f"; idle probe {summary(probes)}"
        if name == "capped":
            await set_cap(storage, A, 5)
        await flood(storage, backlog)
        if name != "capped later":
            await vacuum(url)
        if name == "uncapped":
            return await b_rounds(storage, name, claims)
        if name == "below cap":
            put = await set_cap(storage, A, 1_000_000)
            latencies = await rounds_of_a(storage, claims)
            return f"below cap: A's own claims {summary(latencies)} (cap set in {put:.2f} s)"
        put = await set_cap(storage, A, 5) if name == "capped later" else 0.0
        assert len(await storage.jobs_claim("bench", TYPES, 10, 600.0)) == 5  # A at its cap
        if name == "capped":
            probes = [await probe_ms(storage) for _ in range(100)]
            return await b_rounds(storage, name, claims) + f"; idle probe {summary(probes)}"
        at_once = await b_rounds(storage, f"capped later ({put:.2f} s to set the cap)", claims)
        if not url.startswith("postgresql://"):
            return at_once
        await vacuum(url)
        return at_once + "; after VACUUM: " + (await b_rounds(storage, "", claims))[2:]
    finally:
        await storage.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--claims", type=int, default=300)
    backend_option(parser)
    args = parser.parse_args()
    print(f"fair share [{args.backend}], backlog {args.backlog:,} ({machine()})")
    for name in ("none", "capped", "capped later", "uncapped", "below cap"):
        with cluster(args.backend) as c:
            print("  " + asyncio.run(scenario(c.database_url, name, args.backlog, args.claims)))


if __name__ == "__main__":
    main()
