"""PostgreSQL table health under sustained queue load: does the `jobs` table bloat into slowness?

Against a fresh database per variant (created and dropped here, migrated by
`PostgresStorage.migrate()`): the table starts in a retention steady state (`--history` finished
jobs spread over the last `--retention` seconds, like a table that keeps an hour of finished jobs),
then each round inserts `--jobs` jobs through `jobs_insert`, drains them with `--claimers`
concurrent loops of `jobs_claim` (batches of `--batch`), `--heartbeats` `jobs_heartbeat` call(s)
and `jobs_finish` (COMPLETED, with the lease), and ends with `jobs_expire` (retention's purge,
which also writes a tombstone per job) of jobs finished more
than `--retention` seconds ago. Per round: claim + heartbeat + finish throughput, p50/p99 of one
`jobs_claim` call, heap and index sizes, live and dead tuples, the HOT share of the round's
updates, and the vacuums that ran. The variants' rounds interleave, so load from anything else on
the machine falls on all of them alike.

Variants: `tuned` is the schema as migrated (fillfactor and autovacuum settings on `jobs`);
`untuned` is the same database after `ALTER TABLE jobs RESET (...)` of every table option;
`novacuum` is `tuned` never vacuumed. Vacuum follows the server: with `autovacuum = on` it is the
server's own; with it off (as on the CI machine) the benchmark emulates autovacuum for `jobs` every
`--naptime` seconds with the server's rule (dead tuples > threshold + scale factor * reltuples, or
the insert rule; the table's options override the server's settings) and cost-based delay.

    .venv/bin/python bench/table_health.py [--rounds 20] [--jobs 10000] [--batch 100]
        [--history 1000000] [--retention 3600] [--variants tuned,untuned[,novacuum]]
        [--vacuum auto|emulate|none] [--naptime 1]
        [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]

A small table in steady state instead (history purged within the run):
`--history 100000 --retention 30 --variants tuned,untuned,novacuum`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from harness import machine, percentile
from joblane.core import ids
from joblane.core.job import Lease, NewJob
from joblane.core.retention import Cutoffs
from joblane.core.states import JobState
from joblane.storage.params import Outcome
from joblane.storage.postgres.backend import PostgresStorage
from joblane.storage.postgres.connection import PostgresOptions

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
JOB_TYPE = "noop"
LEASE_SECONDS = 300.0
INSERT_BATCH = 1000
PURGE_BATCH = 5000

HISTORY_SQL = """
INSERT INTO jobs (id, tenant_id, type, state, version, input, max_attempts, timeout, result,
    created_at, updated_at, scheduled_at, started_at, completed_at, finished_at, worker_id)
SELECT 'job_0' || lpad(g::text, 25, '0'), 'bench', 'noop', 'completed', 3, '{}'::json, 3, 600,
    'null'::json, t, t, t, t, t, t, 'history'
FROM generate_series(1, $1::int) AS g,
    LATERAL (SELECT $2::float8 - $3::float8 * (1 - g::float8 / $1::int) AS t) AS x
"""

TABLE_STATS_SQL = """
SELECT pg_relation_size(s.relid) AS heap, s.n_live_tup, s.n_dead_tup, s.n_tup_upd,
    s.n_tup_hot_upd, s.autovacuum_count, s.vacuum_count
FROM pg_stat_user_tables s WHERE s.relname = 'jobs'
"""

INDEX_SIZES_SQL = """
SELECT indexrelname, pg_relation_size(indexrelid) AS size FROM pg_stat_user_indexes
WHERE relname = 'jobs' ORDER BY indexrelname
"""

RELOPTIONS_SQL = "SELECT coalesce(reloptions, '{}') FROM pg_class WHERE oid = 'jobs'::regclass"

VACUUM_STATE_SQL = """
SELECT s.n_dead_tup, s.n_ins_since_vacuum, s.n_mod_since_analyze, greatest(c.reltuples, 0)
FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid WHERE s.relname = 'jobs'
"""

VARIANTS = {
    "tuned": "the jobs table as migrated",
    "untuned": "ALTER TABLE jobs RESET (every option the migration set)",
    "novacuum": "the jobs table as migrated, never vacuumed",
}

SERVER_SETTINGS = (
    "autovacuum_vacuum_threshold",
    "autovacuum_vacuum_scale_factor",
    "autovacuum_vacuum_insert_threshold",
    "autovacuum_vacuum_insert_scale_factor",
    "autovacuum_analyze_threshold",
    "autovacuum_analyze_scale_factor",
    "autovacuum_vacuum_cost_delay",
    "autovacuum_vacuum_cost_limit",
    "vacuum_cost_limit",
)


@dataclass(frozen=True)
class Config:
    admin_url: str
    rounds: int
    jobs: int
    batch: int
    claimers: int
    heartbeats: int
    history: int
    retention: float
    vacuum: str  # server | emulate | none ("auto" resolved)
    naptime: float


@dataclass
class Round:
    number: int
    rate: float
    claim_p50_ms: float
    claim_p99_ms: float
    heap: int
    indexes: dict[str, int]
    live: int
    dead: int
    updates: int
    hot_updates: int
    vacuums: int
    purged: int


@dataclass
class Run:
    variant: str
    options: list[str]
    rounds: list[Round] = field(default_factory=list)
    claims: list[float] = field(default_factory=list)
    jobs: int = 0
    busy: float = 0.0


# -- database lifecycle ------------------------------------------------------------------------
async def one_row(conn: asyncpg.Connection[Any], sql: str) -> asyncpg.Record:
    row: asyncpg.Record | None = await conn.fetchrow(sql)
    assert row is not None, sql
    return row


def url_for(admin_url: str, database: str) -> str:
    return admin_url.rsplit("/", 1)[0] + f"/{database}"


async def admin(admin_url: str, sql: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def fresh_database(admin_url: str, variant: str) -> AsyncIterator[str]:
    name = f"joblane_bench_health_{os.getpid()}_{variant}"
    await admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin(admin_url, f'CREATE DATABASE "{name}"')
    try:
        yield url_for(admin_url, name)
    finally:
        await admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def prepare(storage: PostgresStorage, conn: asyncpg.Connection[Any], cfg: Config,
                  variant: str) -> list[str]:  # fmt: skip
    """Migrate, strip the table's tuning for `untuned`, and load the retention history."""
    assert await storage.migrate(), "nothing migrated"
    options: list[str] = list(await conn.fetchval(RELOPTIONS_SQL))
    if variant == "untuned" and options:
        names = ", ".join(option.split("=", 1)[0] for option in options)
        await conn.execute(f"ALTER TABLE jobs RESET ({names})")
        options = list(await conn.fetchval(RELOPTIONS_SQL))
    if cfg.history:
        await conn.execute(HISTORY_SQL, cfg.history, time.time(), cfg.retention)
    await conn.execute("VACUUM (ANALYZE) jobs")
    return options


# -- autovacuum, emulated when the server's is off -----------------------------------------------
class Autovacuum:
    """The server's autovacuum rule for `jobs`, checked every `naptime` seconds."""

    def __init__(self, url: str, naptime: float) -> None:
        self.url = url
        self.naptime = naptime

    async def run(self, stop: asyncio.Event) -> None:
        conn = await asyncpg.connect(self.url)
        try:
            limits = await self._limits(conn)
            delay = limits["autovacuum_vacuum_cost_delay"]
            limit = limits["autovacuum_vacuum_cost_limit"]
            if limit < 0:
                limit = limits["vacuum_cost_limit"]
            await conn.execute(f"SET vacuum_cost_delay = {delay}")
            await conn.execute(f"SET vacuum_cost_limit = {int(limit)}")
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.naptime)
                if stop.is_set():
                    break
                await self._check(conn, limits)
        finally:
            await conn.close()

    @staticmethod
    async def _limits(conn: asyncpg.Connection[Any]) -> dict[str, float]:
        rows = await conn.fetch(
            "SELECT name, setting::float8 FROM pg_settings WHERE name = ANY($1::text[])",
            list(SERVER_SETTINGS),
        )
        limits = {r[0]: float(r[1]) for r in rows}
        for option in await conn.fetchval(RELOPTIONS_SQL):
            name, value = option.split("=", 1)
            if name.startswith("autovacuum_"):
                limits[name] = float(value)
        return limits

    async def _check(self, conn: asyncpg.Connection[Any], lim: dict[str, float]) -> None:
        dead, inserted, modified, tuples = await one_row(conn, VACUUM_STATE_SQL)
        vacuum = dead > (
            lim["autovacuum_vacuum_threshold"] + lim["autovacuum_vacuum_scale_factor"] * tuples
        ) or inserted > (
            lim["autovacuum_vacuum_insert_threshold"]
            + lim["autovacuum_vacuum_insert_scale_factor"] * tuples
        )
        analyze = modified > (
            lim["autovacuum_analyze_threshold"] + lim["autovacuum_analyze_scale_factor"] * tuples
        )
        if vacuum:
            await conn.execute("VACUUM (ANALYZE) jobs" if analyze else "VACUUM jobs")
        elif analyze:
            await conn.execute("ANALYZE jobs")


# -- the workload ------------------------------------------------------------------------------
async def insert(storage: PostgresStorage, count: int) -> None:
    for start in range(0, count, INSERT_BATCH):
        batch = [
            NewJob(ids.new_id(ids.JOB), "bench", JOB_TYPE, {})
            for _ in range(start, min(count, start + INSERT_BATCH))
        ]
        await storage.jobs_insert(batch)


async def drain(storage: PostgresStorage, cfg: Config, worker: str, claims: list[float]) -> int:
    """Claim, heartbeat and complete until nothing is claimable; the jobs finished."""
    done = 0
    while True:
        began = time.perf_counter()
        jobs = await storage.jobs_claim(worker, [JOB_TYPE], cfg.batch, LEASE_SECONDS)
        if not jobs:
            return done
        claims.append(time.perf_counter() - began)
        leases = [Lease(job.id, job.lease_token or "") for job in jobs]
        for _ in range(cfg.heartbeats):
            await storage.jobs_heartbeat(leases, LEASE_SECONDS)
        finished = await storage.jobs_finish([Outcome(ls, JobState.COMPLETED) for ls in leases])
        done += sum(job is not None for job in finished)


async def purge(storage: PostgresStorage, retention: float) -> int:
    before, total = time.time() - retention, 0
    while (count := await storage.jobs_expire(Cutoffs(before), PURGE_BATCH)) > 0:
        total += count
        if count < PURGE_BATCH:
            break
    return total


async def flush_stats(storage: PostgresStorage) -> None:
    """Make every pooled backend publish its pending table statistics now (PostgreSQL 15)."""
    pool = storage._pool
    assert pool is not None
    conns = [await pool.acquire() for _ in range(pool.get_size())]
    try:
        for conn in conns:
            await conn.execute("SELECT pg_stat_force_next_flush()")
    finally:
        for conn in conns:
            await pool.release(conn)


@dataclass
class Bench:
    """One variant: its own database, storage pool, monitor connection and vacuum."""

    cfg: Config
    run: Run
    storage: PostgresStorage
    monitor: asyncpg.Connection[Any]
    stats: asyncpg.Record

    async def round(self, number: int) -> Round:
        cfg, storage, run, before = self.cfg, self.storage, self.run, self.stats
        await insert(storage, cfg.jobs)
        claims: list[float] = []
        began = time.perf_counter()
        done = sum(
            await asyncio.gather(
                *(drain(storage, cfg, f"bench-{i}", claims) for i in range(cfg.claimers))
            )
        )
        elapsed = time.perf_counter() - began
        purged = await purge(storage, cfg.retention)
        await flush_stats(storage)
        self.stats = stats = await one_row(self.monitor, TABLE_STATS_SQL)
        sizes = {r["indexrelname"]: r["size"] for r in await self.monitor.fetch(INDEX_SIZES_SQL)}
        run.claims += claims
        run.jobs += done
        run.busy += elapsed
        vacuums = stats["autovacuum_count"] + stats["vacuum_count"]
        result = Round(
            number=number,
            rate=done / elapsed,
            claim_p50_ms=percentile(claims, 50) * 1000,
            claim_p99_ms=percentile(claims, 99) * 1000,
            heap=stats["heap"],
            indexes=sizes,
            live=stats["n_live_tup"],
            dead=stats["n_dead_tup"],
            updates=stats["n_tup_upd"] - before["n_tup_upd"],
            hot_updates=stats["n_tup_hot_upd"] - before["n_tup_hot_upd"],
            vacuums=vacuums - before["autovacuum_count"] - before["vacuum_count"],
            purged=purged,
        )
        run.rounds.append(result)
        return result


@contextlib.asynccontextmanager
async def variant_bench(cfg: Config, variant: str) -> AsyncIterator[Bench]:
    async with fresh_database(cfg.admin_url, variant) as url:
        pool_size = cfg.claimers + 1
        storage = PostgresStorage(PostgresOptions(url, pool_size, pool_size))
        await storage.open()
        monitor = await asyncpg.connect(url)
        stop = asyncio.Event()
        vacuumer: asyncio.Task[None] | None = None
        try:
            run = Run(variant, await prepare(storage, monitor, cfg, variant))
            no_vacuum = variant == "novacuum" or cfg.vacuum == "none"
            if no_vacuum and cfg.vacuum != "emulate":  # the server's autovacuum may be on
                await monitor.execute("ALTER TABLE jobs SET (autovacuum_enabled = off)")
            if not no_vacuum and cfg.vacuum == "emulate":
                vacuumer = asyncio.create_task(Autovacuum(url, cfg.naptime).run(stop))
            yield Bench(cfg, run, storage, monitor, await one_row(monitor, TABLE_STATS_SQL))
        finally:
            stop.set()
            if vacuumer is not None:
                await vacuumer
            await monitor.close()
            await storage.close()


# -- report ------------------------------------------------------------------------------------
def mb(size: int) -> str:
    return f"{size / 2**20:.1f}"


HEADER = (
    f"{'variant':>9} {'round':>5} {'jobs/s':>7} {'claim p50':>9} {'p99 ms':>7} {'heap MB':>8} "
    f"{'idx MB':>7} {'claimable':>9} {'live':>8} {'dead':>8} {'HOT%':>5} {'vac':>4} {'purged':>7}"
)


def print_round(variant: str, r: Round) -> None:
    hot = 100 * r.hot_updates / r.updates if r.updates else 0.0
    print(
        f"{variant:>9} {r.number:>5} {r.rate:>7,.0f} {r.claim_p50_ms:>9.2f} {r.claim_p99_ms:>7.2f} "
        f"{mb(r.heap):>8} {mb(sum(r.indexes.values())):>7} "
        f"{r.indexes.get('jobs_claimable', 0) // 1024:>7}KB {r.live:>8,} {r.dead:>8,} "
        f"{hot:>5.1f} {r.vacuums:>4} {r.purged:>7,}",
        flush=True,
    )


def summarise(runs: list[Run]) -> None:
    print("\nsummary (claim latency over the last half of the rounds; sizes after the last round)")
    print(
        f"{'variant':>9} {'jobs/s':>7} {'claim p50':>9} {'p99 ms':>7} {'heap MB':>8} "
        f"{'idx MB':>7} {'max dead':>9} {'HOT%':>5} {'vacuums':>7}"
    )
    for run in runs:
        tail = run.claims[len(run.claims) // 2 :]
        last = run.rounds[-1]
        updates = sum(r.updates for r in run.rounds)
        hot = 100 * sum(r.hot_updates for r in run.rounds) / updates if updates else 0.0
        print(
            f"{run.variant:>9} {run.jobs / run.busy:>7,.0f} {percentile(tail, 50) * 1000:>9.2f} "
            f"{percentile(tail, 99) * 1000:>7.2f} {mb(last.heap):>8} "
            f"{mb(sum(last.indexes.values())):>7} {max(r.dead for r in run.rounds):>9,} "
            f"{hot:>5.1f} {sum(r.vacuums for r in run.rounds):>7}"
        )
    print("\nindex sizes after the last round, MB")
    names = sorted({name for run in runs for name in run.rounds[-1].indexes})
    print(f"{'index':>22} " + " ".join(f"{run.variant:>9}" for run in runs))
    for name in names:
        sizes = " ".join(f"{mb(run.rounds[-1].indexes.get(name, 0)):>9}" for run in runs)
        print(f"{name:>22} {sizes}")


async def server_autovacuum(admin_url: str) -> bool:
    conn = await asyncpg.connect(admin_url)
    try:
        return bool(await conn.fetchval("SHOW autovacuum") == "on")
    finally:
        await conn.close()


async def main_async(args: argparse.Namespace) -> None:
    autovacuum_on = await server_autovacuum(args.admin_url)
    vacuum = args.vacuum
    if vacuum == "auto":
        vacuum = "server" if autovacuum_on else "emulate"
    elif vacuum == "emulate" and autovacuum_on:
        sys.exit("--vacuum emulate needs a server with autovacuum = off")
    cfg = Config(
        args.admin_url, args.rounds, args.jobs, args.batch, args.claimers, args.heartbeats,
        args.history, args.retention, vacuum, args.naptime,
    )  # fmt: skip
    print(f"$ {' '.join([os.path.basename(sys.executable), *sys.argv])}")
    print(
        f"{machine()}; server autovacuum={'on' if autovacuum_on else 'off'}; vacuum: {vacuum}"
        + (f" (naptime {cfg.naptime:g}s)" if vacuum == "emulate" else "")
        + f"; {cfg.rounds} rounds x {cfg.jobs:,} jobs, claim batch {cfg.batch}, "
        f"{cfg.claimers} claimers, {cfg.heartbeats} heartbeat(s) per batch, history "
        f"{cfg.history:,} finished jobs, retention {cfg.retention:g}s"
    )
    variants = args.variants.split(",")
    for variant in variants:
        print(f"{variant:>9}: {VARIANTS[variant]}")
    async with contextlib.AsyncExitStack() as stack:
        benches = [await stack.enter_async_context(variant_bench(cfg, v)) for v in variants]
        for bench in benches:
            print(f"{bench.run.variant:>9}: reloptions {', '.join(bench.run.options) or '-'}")
        print(HEADER)
        for number in range(1, cfg.rounds + 1):
            turn = number % len(benches)  # rounds interleave, in a rotating order
            for bench in benches[turn:] + benches[:turn]:
                print_round(bench.run.variant, await bench.round(number))
        summarise([bench.run for bench in benches])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=10_000, help="jobs per round")
    parser.add_argument("--batch", type=int, default=100, help="jobs per jobs_claim call")
    parser.add_argument("--claimers", type=int, default=2, help="concurrent claim loops")
    parser.add_argument("--heartbeats", type=int, default=1, help="per claimed batch")
    parser.add_argument("--history", type=int, default=1_000_000, help="finished at start")
    parser.add_argument("--retention", type=float, default=3600.0, help="seconds kept")
    parser.add_argument("--variants", default="tuned,untuned")
    parser.add_argument("--vacuum", choices=["auto", "emulate", "none"], default="auto")
    parser.add_argument("--naptime", type=float, default=1.0, help="emulated autovacuum")
    args = parser.parse_args()
    for variant in args.variants.split(","):
        if variant not in VARIANTS:
            parser.error(f"unknown variant {variant!r}")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
