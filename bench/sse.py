"""What do a thousand open Server-Sent Events streams cost? `--clients` jobs run at once (each
reports progress every 0.25 s; the worker flushes it every 0.5 s, so each job gets about two new
versions a second), first with nobody watching, then with one `GET /v1/jobs/{id}/events` stream
per job. Measured over the same window length in both phases: the API process's CPU (from
/proc), the worker's, the events the clients received, and on PostgreSQL the statements the API
process sent (the bench database logs every statement, `log_statement = all`, and the API's
connections carry an `application_name`; its backends' lines in the server log are counted) and
the transactions the whole database committed (pg_stat_database).

    .venv/bin/python bench/sse.py [--backend postgres] [--clients 1000] [--window 20]
                                  [--pg-log /var/log/postgresql/postgresql-15-main.log]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx

from harness import ADMIN_URL, Cluster, backend_option, cluster, machine

TICKS = os.sysconf("SC_CLK_TCK")
API_APP = "joblane_bench_api"
STATEMENT = re.compile(rb"\[(\d+)\] \S+ LOG:  (?:statement|execute [^:]*):")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


async def admin(c: Cluster, sql: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


def transactions(c: Cluster) -> int:
    if c.postgres_db is None:
        return 0
    sql = "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1"
    return int(asyncio.run(admin(c, sql, c.postgres_db))[0][0])


def api_statements(c: Cluster, log: Path, start: int, end: int) -> int:
    """Statements the API's backends logged between two offsets of the server log."""
    sql = "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2"
    pids = {str(r["pid"]).encode() for r in asyncio.run(admin(c, sql, c.postgres_db, API_APP))}
    with log.open("rb") as f:
        f.seek(start)
        text = f.read(end - start)
    return sum(1 for m in STATEMENT.finditer(text) if m[1] in pids)


def measure(c: Cluster, pids: dict[str, int], window: float, log: Path) -> dict[str, float]:
    cpu0 = {name: cpu_seconds(pid) for name, pid in pids.items()}
    logged0 = log.stat().st_size if c.postgres_db else 0
    tx0, t0 = transactions(c), time.perf_counter()
    time.sleep(window)
    tx1, t1 = transactions(c), time.perf_counter()
    seconds = t1 - t0
    out = {f"{name}_cpu": (cpu_seconds(pid) - cpu0[name]) / seconds for name, pid in pids.items()}
    out["db_tx_per_s"] = (tx1 - tx0 - 2) / seconds  # less the two sampling queries
    if c.postgres_db:
        time.sleep(0.5)  # the server's logger catches up
        out["api_statements_per_s"] = api_statements(c, log, logged0, log.stat().st_size) / seconds
    return out


async def submit(url: str, key: str, count: int, seconds: float) -> list[str]:
    headers = {"X-API-Key": key}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        sem = asyncio.Semaphore(32)

        async def one() -> str:
            async with sem:
                body = {"type": "tick", "input": {"seconds": seconds}}
                response = await client.post("/v1/jobs", json=body)
                response.raise_for_status()
                job_id: str = response.json()["id"]
                return job_id

        return list(await asyncio.gather(*(one() for _ in range(count))))


def wait_running(url: str, key: str, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    params: dict[str, str | int] = {"status": "running", "limit": 1000}
    while time.monotonic() < deadline:
        running, cursor = 0, None
        while True:
            page = httpx.get(
                f"{url}/v1/jobs",
                params={**params, **({"cursor": cursor} if cursor else {})},
                headers={"X-API-Key": key},
            ).json()
            running += len(page["data"])
            cursor = page.get("next_cursor")
            if not cursor:
                break
        if running >= count:
            return
        time.sleep(0.5)
    raise TimeoutError(f"fewer than {count} jobs running after {timeout} s")


async def watch(url: str, key: str, job_ids: list[str], seconds: float, out: Path) -> None:
    """One stream per job; counts events (blank-line-terminated blocks with an `id:`)."""
    counts = {"events": 0, "connected": 0, "errors": 0}
    limits = httpx.Limits(max_connections=len(job_ids) + 10, max_keepalive_connections=0)
    timeout = httpx.Timeout(30, read=60)
    async with httpx.AsyncClient(
        base_url=url, headers={"X-API-Key": key}, limits=limits, timeout=timeout
    ) as client:

        async def one(job_id: str) -> None:
            try:
                async with client.stream("GET", f"/v1/jobs/{job_id}/events") as response:
                    counts["connected"] += 1
                    async for chunk in response.aiter_bytes():
                        counts["events"] += chunk.count(b"\nid: ") + chunk.startswith(b"id: ")
            except httpx.HTTPError:
                counts["errors"] += 1
            except asyncio.CancelledError:
                pass  # the end of the window

        tasks = [asyncio.create_task(one(job_id)) for job_id in job_ids]
        await asyncio.sleep(seconds)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    out.write_text(json.dumps(counts))


def run(args: argparse.Namespace) -> None:
    with cluster(args.backend) as c:
        key = c.run("keys", "create", "--tenant", "bench")
        env = None
        if c.postgres_db is not None:
            asyncio.run(admin(c, f"ALTER DATABASE \"{c.postgres_db}\" SET log_statement = 'all'"))
            env = {"JOBLANE_DATABASE_URL": f"{c.database_url}?application_name={API_APP}"}
        url = c.start_http("api", env=env)
        api_pid = c.procs[-1].pid
        worker = c.start("worker", "bench_app:app", "--concurrency", str(args.clients + 10))
        run_for = 3 * args.window + 60
        job_ids = asyncio.run(submit(url, key, args.clients, run_for))
        wait_running(url, key, args.clients)
        time.sleep(5)  # past the start: every job reporting progress
        pids = {"api": api_pid, "worker": worker.pid}
        quiet = measure(c, pids, args.window, args.pg_log)
        counts_file = c.workdir / "counts.json"
        watchers = subprocess.Popen(
            [sys.executable, __file__, "_watch", url, key, str(counts_file), str(2 * args.window)],
            stdin=subprocess.PIPE,
            text=True,
        )
        assert watchers.stdin is not None
        watchers.stdin.write("\n".join(job_ids))
        watchers.stdin.close()
        time.sleep(args.window / 2)  # every stream connected and past its first event
        watched = measure(c, pids, args.window, args.pg_log)
        watchers.wait()
        counts = json.loads(counts_file.read_text())
    report(args, quiet, watched, counts)


def report(
    args: argparse.Namespace,
    quiet: dict[str, float],
    watched: dict[str, float],
    counts: dict[str, int],
) -> None:
    events_per_s = counts["events"] / (2 * args.window)
    db = (
        f"statements from the API {quiet['api_statements_per_s']:.1f} -> "
        f"{watched['api_statements_per_s']:.1f}/s; whole database {quiet['db_tx_per_s']:.0f} -> "
        f"{watched['db_tx_per_s']:.0f} transactions/s (the worker's progress writes included)"
        if args.backend == "postgres"
        else "database: in-process SQLite reads"
    )
    print(
        f"SSE [{args.backend}] ({machine()}): {args.clients} running jobs, "
        f"{counts['connected']} streams connected, ~{events_per_s:.0f} events/s received "
        f"({counts['errors']} stream errors);\n"
        f"  API CPU {100 * quiet['api_cpu']:.1f}% -> {100 * watched['api_cpu']:.1f}% of a core, "
        f"worker CPU {100 * quiet['worker_cpu']:.1f}% -> {100 * watched['worker_cpu']:.1f}%; {db}",
        flush=True,
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_watch":
        url, key, out, seconds = sys.argv[2:6]
        job_ids = sys.stdin.read().split()
        asyncio.run(watch(url, key, job_ids, float(seconds), Path(out)))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000, help="running jobs and streams")
    parser.add_argument("--window", type=float, default=20.0, help="seconds per measurement")
    parser.add_argument(
        "--pg-log", type=Path, default=Path("/var/log/postgresql/postgresql-15-main.log")
    )
    backend_option(parser)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
