"""The dashboard with 1,000,000 jobs in PostgreSQL (issue 7: job list and overview pages under
300 ms server time).

Creates a fresh database (dropped afterwards), migrates it, seeds `--jobs` jobs in one
INSERT ... SELECT generate_series (`dashboard_seed.sql`: 30 days, 5 tenants, 20 types, states
spread, 40 batches), VACUUM ANALYZE, then times server-side, `--reps` times each after a warm-up:
`OverviewService.get` (admin, admin narrowed to a tenant, a tenant key) and `JobService.list`
(first page, filters, a deep cursor page) for an admin and a tenant key; and the real dashboard
pages in process (`build_api`, httpx's ASGI transport, logged in with a session cookie).
`--explain` prints the plan of each list query; `--results` appends a section to RESULTS.md.
The write cost of migration 0010 is `bench/dashboard_writes.py`.

    .venv/bin/python bench/dashboard.py [--jobs 1000000] [--reps 30] [--explain] [--results]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from harness import ADMIN_URL, BENCH_DIR, machine
from joblane.app import Joblane
from joblane.core.principal import ADMIN, READ, WRITE, Principal
from joblane.core.states import JobState
from joblane.server import build_api
from joblane.service.changes import ChangeFeed
from joblane.service.jobs import JobService, id_range
from joblane.service.overview import OverviewService
from joblane.settings import load_settings
from joblane.storage.params import JobFilter
from joblane.storage.postgres.backend import PostgresStorage
from joblane.storage.postgres.connection import PostgresOptions
from joblane.storage.postgres.listing import list_query

DAY = 86400.0
Case = tuple[str, dict[str, Any]]


@dataclass
class Timing:
    group: str
    name: str
    samples: list[float]

    def row(self) -> str:
        p50 = statistics.median(self.samples) * 1000
        p95 = sorted(self.samples)[max(0, round(len(self.samples) * 0.95) - 1)] * 1000
        return f"| {self.group} | {self.name} | {p50:.1f} | {p95:.1f} |"


def url_for(database: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"


async def admin_sql(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def create_seeded(database: str, jobs: int) -> tuple[float, str]:
    """A migrated database holding `jobs` jobs; the seconds the seed took, the server's
    version."""
    await admin_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    await admin_sql(f'CREATE DATABASE "{database}"')
    storage = PostgresStorage(PostgresOptions(url_for(database), max_connections=2))
    await storage.open()
    try:
        await storage.migrate()
    finally:
        await storage.close()
    seed = (BENCH_DIR / "dashboard_seed.sql").read_text().replace(":n", str(jobs))
    conn = await asyncpg.connect(url_for(database))
    try:
        started = time.perf_counter()
        await conn.execute(seed)
        await conn.execute("VACUUM ANALYZE")
        return time.perf_counter() - started, str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


async def timed(fn: Callable[[], Awaitable[object]], reps: int) -> list[float]:
    for _ in range(3):  # warm-up: caches, prepared statements, generic plans
        await fn()
    samples: list[float] = []
    for _ in range(reps):
        started = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - started)
    return samples


async def list_cases(conn: asyncpg.Connection, now: float) -> list[Case]:
    deep = await conn.fetchval(
        "SELECT id FROM jobs WHERE created_at < $1 ORDER BY created_at DESC LIMIT 1",
        now - 15 * DAY,
    )
    batch = await conn.fetchval("SELECT id FROM batches WHERE tenant_id = 'tenant-1' LIMIT 1")
    return [
        ("first page", {}),
        ("status=failed", {"states": (JobState.FAILED,)}),
        ("status=running", {"states": (JobState.RUNNING,)}),
        ("type=type_07", {"types": ("type_07",)}),
        ("type=type_rare (100 old jobs)", {"types": ("type_rare",)}),
        ("batch_id", {"batch_id": batch}),
        ("metadata customer=cust-42 (rare)", {"metadata": (("customer", "cust-42"),)}),
        ("metadata region=eu (common)", {"metadata": (("region", "eu"),)}),
        (
            "failed + metadata customer=cust-42",
            {"states": (JobState.FAILED,), "metadata": (("customer", "cust-42"),)},
        ),
        (
            "created 21..20 days ago",
            {"created_after": now - 21 * DAY, "created_before": now - 20 * DAY},
        ),
        ("created before 20 days ago", {"created_before": now - 20 * DAY}),
        ("deep cursor (15 days back)", {"before_id": deep}),
    ]


async def bench_services(url: str, reps: int, explain: bool) -> list[Timing]:
    storage = PostgresStorage(PostgresOptions(url, max_connections=4))
    await storage.open()
    conn = await asyncpg.connect(url)
    try:
        overview = OverviewService(storage)
        jobs = JobService(storage, Joblane("bench"), ChangeFeed(storage.jobs_versions))
        admin = Principal("ops", frozenset({ADMIN}))
        tenant = Principal("tenant-1", frozenset({READ, WRITE}))
        out = [
            Timing(
                "overview", "admin, all tenants", await timed(lambda: overview.get(admin), reps)
            ),
            Timing(
                "overview",
                "admin, tenant-1",
                await timed(lambda: overview.get(admin, "tenant-1"), reps),
            ),
            Timing("overview", "tenant-1 key", await timed(lambda: overview.get(tenant), reps)),
        ]
        for name, fields in await list_cases(conn, storage.now()):
            for who, label in ((admin, "admin"), (tenant, "tenant-1")):
                query = JobFilter(tenant_id=None, limit=50, **fields)
                samples = await timed(lister(jobs, who, query), reps)
                out.append(Timing(f"list ({label})", name, samples))
                if explain:
                    scoped = replace(query, tenant_id=who.visible_tenant, limit=51)
                    await print_plan(conn, f"{label}: {name}", id_range(scoped))
        return out
    finally:
        await conn.close()
        await storage.close()


def lister(jobs: JobService, who: Principal, query: JobFilter) -> Callable[[], Awaitable[object]]:
    return lambda: jobs.list(who, query)


async def print_plan(conn: asyncpg.Connection, label: str, query: JobFilter) -> None:
    sql, args = list_query(query)
    plan = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *args)
    lines = [r[0].strip() for r in plan]
    scans = [line for line in lines if "Scan" in line]
    total = next((line for line in lines if line.startswith("Execution Time")), "")
    print(f"  {label}: {scans[0][:120] if scans else lines[0][:120]} / {total}")


async def bench_pages(url: str, reps: int) -> list[Timing]:
    """The dashboard's own pages, in process, logged in as an admin and as a tenant key."""
    settings = load_settings(
        database_url=url,
        app="bench_app:app",
        rate_read=1e6,
        rate_read_burst=1_000_000,
        rate_write=1e6,
        rate_write_burst=1_000_000,
    )
    app = build_api(settings, with_worker=False)
    out: list[Timing] = []
    async with app.router.lifespan_context(app):
        keys = app.state.ctx.keys
        sessions = {
            "admin": (await keys.create("ops", (ADMIN,))).secret,
            "tenant-1": (await keys.create("tenant-1", (READ, WRITE))).secret,
        }
        transport = httpx.ASGITransport(app=app)
        for label, secret in sessions.items():
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                login = await client.post("/dashboard/login", data={"api_key": secret})
                assert login.status_code in (302, 303), login.text[:200]
                for name, path in await page_paths(client):
                    samples = await timed(get(client, path), reps)
                    rows = (await client.get(path)).text.count('data-testid="job-row"')
                    shown = f"{name} ({rows} rows)" if "jobs" in path else name
                    out.append(Timing(f"page ({label})", shown, samples))
    return out


async def page_paths(client: httpx.AsyncClient) -> list[tuple[str, str]]:
    first = await client.get("/dashboard/jobs")
    found = re.search(r"cursor=(job_[0-9A-Z]{26})", first.text)
    assert found is not None, "the first page has no next-page link"
    cursor = found[1]
    old = datetime.fromtimestamp(time.time() - 20 * DAY, UTC).strftime("%Y-%m-%dT%H:%M")
    return [
        ("/dashboard (overview)", "/dashboard"),
        ("/dashboard/jobs", "/dashboard/jobs"),
        ("/dashboard/jobs page 2", f"/dashboard/jobs?cursor={cursor}"),
        ("jobs?status=failed", "/dashboard/jobs?status=failed"),
        ("jobs?type=type_rare", "/dashboard/jobs?type=type_rare"),
        ("jobs?metadata=customer=cust-42", "/dashboard/jobs?metadata=customer%3Dcust-42"),
        ("jobs?created_before=20 days ago", f"/dashboard/jobs?created_before={old}"),
    ]


def get(client: httpx.AsyncClient, path: str) -> Callable[[], Awaitable[object]]:
    async def fetch() -> object:
        response = await client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response

    return fetch


def report(
    jobs: int, seed_seconds: float, timings: list[Timing], load: tuple[str, str], server: str
) -> str:
    stamp = subprocess.run(["date", "-u"], capture_output=True, text=True).stdout.strip()
    lines = [
        f"## dashboard at {jobs:,} jobs (bench/dashboard.py) — {stamp}",
        "",
        f"{machine()}, PostgreSQL {server} (127.0.0.1); load average before / after: "
        f"{load[0]} / {load[1]}.",
        f"Seed: {seed_seconds:.0f} s (INSERT ... SELECT generate_series, then VACUUM ANALYZE).",
        "Times are server side, in ms, per call (services) or per request (pages, in process).",
        "",
        "| what | case | p50 ms | p95 ms |",
        "|---|---|---|---|",
        *(t.row() for t in timings),
        "",
    ]
    return "\n".join(lines)


def loadavg() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--results", action="store_true", help="append to bench/RESULTS.md")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    database = f"joblane_bench_dash_{os.getpid()}"
    before = loadavg()
    notes: list[str] = []
    try:
        seed_seconds, server = await create_seeded(database, args.jobs)
        print(f"seeded {args.jobs:,} jobs in {seed_seconds:.1f} s")
        timings = await bench_services(url_for(database), args.reps, args.explain)
        try:
            timings += await bench_pages(url_for(database), args.reps)
        except Exception as exc:  # the dashboard is young: still report the services
            print(f"pages not measured: {exc!r}")
            notes.append(f"Pages not measured: {type(exc).__name__}: {exc}")
    finally:
        if not args.keep:
            await admin_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    text = report(args.jobs, seed_seconds, timings, (before, loadavg()), server)
    text += "".join(f"{note}\n" for note in notes)
    print(text)
    if args.results:
        with (BENCH_DIR / "RESULTS.md").open("a", encoding="utf-8") as out:
            out.write("\n" + text)


if __name__ == "__main__":
    asyncio.run(main())
