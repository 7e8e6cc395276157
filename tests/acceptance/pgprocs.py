"""Helpers for multi-node acceptance tests on PostgreSQL: a cluster of `joblane api` and
`joblane worker` processes on one database, bulk submission, the jobs table as seen by the
database, `nap` marker files, and stopping/starting the local PostgreSQL cluster."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

import pg
from acceptance.procs import Processes, free_port, wait_ready

POSTGRES_CONF = Path("/etc/postgresql")


# -- processes -------------------------------------------------------------------------------
@dataclass
class Cluster:
    """The processes of one test: API base URLs and worker processes (all in `procs`)."""

    procs: Processes
    apis: list[str] = field(default_factory=list)
    api_procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    worker_logs: list[str] = field(default_factory=list)

    def start(self, *, apis: int, workers: int) -> None:
        """Start every process at once, then wait until each API is ready and each worker says
        it is serving (starting them one by one would take seconds per process)."""
        pending: list[tuple[str, subprocess.Popen[bytes]]] = []
        for n in range(apis):
            port = free_port()
            proc = self.procs.start(
                "api", "apps:app", "--port", str(port), log_name=f"api-{len(self.apis) + n}"
            )
            pending.append((f"http://127.0.0.1:{port}", proc))
        new_workers = []
        for _ in range(workers):
            name = f"worker-{len(self.workers)}"
            self.workers.append(self.procs.start("worker", "apps:app", log_name=name))
            self.worker_logs.append(name)
            new_workers.append((name, self.workers[-1]))
        for url, proc in pending:
            wait_ready(url, proc, timeout=30)
            self.apis.append(url)
            self.api_procs.append(proc)
        for name, proc in new_workers:
            wait_for_log(self.procs, name, proc, "serving", timeout=30)


def wait_for_log(
    procs: Processes, name: str, proc: subprocess.Popen[bytes], text: str, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in procs.log(name):
            return
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{procs.log(name)}")
        time.sleep(0.05)
    raise TimeoutError(f"{name} did not log {text!r} within {timeout}s:\n{procs.log(name)}")


# -- HTTP ------------------------------------------------------------------------------------
def nap(seconds: float, markers: Path) -> dict[str, Any]:
    return {"type": "nap", "input": {"seconds": seconds, "marker_dir": str(markers)}}


async def submit_all(
    apis: Sequence[str], api_key: str, bodies: Sequence[dict[str, Any]], parallel: int = 8
) -> list[str]:
    """POST every body, alternating between the APIs, `parallel` at a time; every answer must
    be a 202. Returns the job ids in submission order."""
    limits = httpx.Limits(max_connections=parallel, max_keepalive_connections=parallel)
    clients = [
        httpx.AsyncClient(base_url=url, headers={"X-API-Key": api_key}, limits=limits, timeout=30)
        for url in apis
    ]
    ids: list[str | None] = [None] * len(bodies)
    failures: list[str] = []
    gate = asyncio.Semaphore(parallel)

    async def submit(n: int) -> None:
        async with gate:
            try:
                response = await clients[n % len(clients)].post("/v1/jobs", json=bodies[n])
            except httpx.HTTPError as exc:  # recorded, so that no request outlives its client
                failures.append(repr(exc))
                return
        if response.status_code == 202:
            ids[n] = response.json()["id"]
        else:
            failures.append(f"{response.status_code} {response.text[:200]}")

    try:
        await asyncio.gather(*(submit(n) for n in range(len(bodies))))
    finally:
        for client in clients:
            await client.aclose()
    assert not failures, f"{len(failures)} submissions failed, e.g. {failures[:3]}"
    return [job_id for job_id in ids if job_id is not None]


async def list_jobs(api: str, api_key: str) -> list[dict[str, Any]]:
    """Every job of the key's tenant, through the API's paged listing."""
    jobs: list[dict[str, Any]] = []
    params: dict[str, str | int] = {"limit": 1000, "fields": "id,status,attempt"}
    async with httpx.AsyncClient(
        base_url=api, headers={"X-API-Key": api_key}, timeout=30
    ) as client:
        while True:
            response = await client.get("/v1/jobs", params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            jobs.extend(page["data"])
            if not page["next_cursor"]:
                return jobs
            params["cursor"] = page["next_cursor"]


# -- the database ----------------------------------------------------------------------------
async def fetch(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url, timeout=5)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def states(url: str) -> Counter[str]:
    rows = await fetch(url, "SELECT state, count(*) AS n FROM jobs GROUP BY state")
    return Counter({r["state"]: r["n"] for r in rows})


async def wait_terminal(url: str, total: int, timeout: float) -> Counter[str]:
    """Wait until `total` jobs exist and none is queued or running; the final state counts."""
    deadline = time.monotonic() + timeout
    while True:
        counts = await states(url)
        unfinished = counts["queued"] + counts["running"]
        if counts.total() >= total and unfinished == 0:
            return counts
        if time.monotonic() > deadline:
            raise TimeoutError(f"jobs not terminal after {timeout}s: {dict(counts)}")
        await asyncio.sleep(0.25)


async def advisory_locks(url: str, *, granted: bool = True) -> int:
    """Advisory locks held (or waited for) in this database: leadership holds a session lock;
    migrations take a transaction-level lock only while `migrate` runs."""
    rows = await fetch(
        url,
        "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted = $1 "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        granted,
    )
    n: int = rows[0]["n"]
    return n


# -- nap markers -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Markers:
    """`start-<job>-<attempt>-<pid>` per handler start, `done-<job>` per completed job."""

    starts: Counter[tuple[str, int]]  # (job, attempt) -> handler starts
    start_pids: dict[tuple[str, int], set[int]]
    done: set[str]

    @classmethod
    def read(cls, directory: Path) -> Markers:
        starts: Counter[tuple[str, int]] = Counter()
        pids: dict[tuple[str, int], set[int]] = {}
        done: set[str] = set()
        for path in directory.iterdir():
            kind, job_id, *rest = path.name.split("-")
            if kind == "done":
                done.add(job_id)
            else:
                key = (job_id, int(rest[0]))
                starts[key] += 1
                pids.setdefault(key, set()).add(int(rest[1]))
        return cls(starts, pids, done)

    def attempts_started(self, job_id: str) -> list[int]:
        return sorted(attempt for (job, attempt) in self.starts if job == job_id)


# -- the PostgreSQL cluster ------------------------------------------------------------------
def pg_cluster() -> tuple[str, str]:
    """(version, name) of the local cluster, e.g. ("15", "main")."""
    versions = sorted((p.name for p in POSTGRES_CONF.iterdir() if p.name.isdigit()), key=int)
    return versions[-1], "main"


def pg_ctl(action: str) -> None:
    version, name = pg_cluster()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, action],
        check=True,
        capture_output=True,
        timeout=60,
    )


async def pg_accepting() -> bool:
    try:
        conn = await asyncpg.connect(pg.ADMIN_URL, timeout=1)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


async def wait_pg_accepting(timeout: float) -> float:
    """Wait until PostgreSQL accepts a connection; the monotonic time when it did."""
    deadline = time.monotonic() + timeout
    while not await pg_accepting():
        if time.monotonic() > deadline:
            raise TimeoutError(f"PostgreSQL not accepting connections after {timeout}s")
        await asyncio.sleep(0.05)
    return time.monotonic()


async def ensure_pg_running() -> None:
    """Start the cluster if it is down (a failed test must not leave it stopped)."""
    if await pg_accepting():
        return
    version, name = pg_cluster()
    await asyncio.to_thread(
        subprocess.run,
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "start"],
        capture_output=True,
        timeout=60,
    )
    await wait_pg_accepting(60)
