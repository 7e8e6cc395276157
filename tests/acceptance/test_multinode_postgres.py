"""Several `joblane api` and `joblane worker` processes on one PostgreSQL database: every job
runs exactly once, a killed worker's jobs are rescued, one maintenance leader at a time,
concurrent migrations, and a PostgreSQL restart under load answered with 503s, not 500s."""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

import pg
from acceptance.pgprocs import (
    Cluster,
    Markers,
    advisory_locks,
    ensure_pg_running,
    fetch,
    list_jobs,
    nap,
    pg_ctl,
    submit_all,
    wait_pg_accepting,
    wait_terminal,
)
from acceptance.procs import Processes
from conftest import BACKENDS
from joblane.storage import migrate as migrations
from joblane.storage.sqlfiles import load_positional

POSTGRES_QUERIES = load_positional("joblane.storage.postgres")

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.skipif("postgres" not in BACKENDS, reason="PostgreSQL unreachable"),
]

SETTINGS = {
    "JOBLANE_LEASE_SECONDS": "2",
    "JOBLANE_MAINTENANCE_INTERVAL": "0.5",
    "JOBLANE_SHUTDOWN_GRACE": "2",
    "JOBLANE_POOL_SIZE": "8",
}
LEADER_LOG = "maintenance leadership acquired"


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    """A fresh migrated database and the processes started on it; all killed afterwards."""
    async with pg.fresh_database() as url:
        procs = Processes(workdir=tmp_path, database=url, env_overrides=dict(SETTINGS))
        try:
            yield Cluster(procs)
        finally:
            procs.stop_all()


@pytest.fixture
def pg_key(cluster: Cluster) -> str:
    return cluster.procs.run("keys", "create", "--tenant", "acceptance")


@pytest.fixture
def markers(tmp_path: Path) -> Path:
    directory = tmp_path / "markers"
    directory.mkdir()
    return directory


def assert_alive(cluster: Cluster) -> None:
    for proc in cluster.procs.started:
        assert proc.poll() is None, f"process {proc.pid} exited with {proc.returncode}"


# -- 1. exactly once at scale ------------------------------------------------------------------
@pytest.mark.timeout(150)
async def test_5000_jobs_on_two_apis_and_three_workers_each_run_exactly_once(
    cluster: Cluster, pg_key: str, markers: Path
) -> None:
    total = 5000
    cluster.start(apis=2, workers=3)

    began = time.monotonic()
    ids = await submit_all(cluster.apis, pg_key, [nap(0.01, markers)] * total)
    submitted = time.monotonic() - began
    assert len(set(ids)) == total

    counts = await wait_terminal(cluster.procs.database, total, timeout=100)
    finished = time.monotonic() - began
    print(f"\n{total} jobs submitted in {submitted:.1f}s, all done after {finished:.1f}s")
    assert counts == Counter({"completed": total})

    listed = await list_jobs(cluster.apis[1], pg_key)
    assert sorted(job["id"] for job in listed) == sorted(ids)
    assert {(job["status"], job["attempt"]) for job in listed} == {("completed", 1)}

    seen = Markers.read(markers)
    assert seen.done == set(ids)  # every handler ran to its end
    assert seen.starts == Counter({(job_id, 1): 1 for job_id in ids})  # and started only once
    for name in cluster.worker_logs:
        assert "rescued job" not in cluster.procs.log(name)
    assert_alive(cluster)


# -- 2. kill -9 of one worker mid-run ----------------------------------------------------------
@pytest.mark.timeout(90)
async def test_a_killed_workers_jobs_are_rescued_and_every_job_completes_once(
    cluster: Cluster, pg_key: str, markers: Path
) -> None:
    total = 600
    cluster.start(apis=2, workers=3)
    ids = await submit_all(cluster.apis, pg_key, [nap(0.2, markers)] * total)

    deadline = time.monotonic() + 30
    while sum(1 for _ in markers.glob("done-*")) < total // 3:
        assert time.monotonic() < deadline, "a third of the jobs did not finish in 30 s"
        await asyncio.sleep(0.02)
    victim = await busiest_worker(cluster, markers)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    at_kill = Markers.read(markers)
    in_flight = running_on(at_kill, victim.pid)
    assert in_flight, "the killed worker was running nothing"
    survivors = [n for n, proc in enumerate(cluster.workers) if proc is not victim]

    counts = await wait_terminal(cluster.procs.database, total, timeout=45)
    assert counts == Counter({"completed": total})

    attempts = {job["id"]: job["attempt"] for job in await list_jobs(cluster.apis[0], pg_key)}
    assert sorted(attempts) == sorted(ids)
    rescued = {job_id for job_id, attempt in attempts.items() if attempt > 1}
    assert in_flight <= rescued  # every job the victim was running got another attempt
    seen = Markers.read(markers)
    assert seen.done == set(ids)
    assert max(seen.starts.values()) == 1  # no (job, attempt) ever started twice
    for job_id in ids:  # the last attempt ran; earlier ones were claimed (maybe started) by
        final = attempts[job_id]  # the victim and taken back from it
        assert seen.attempts_started(job_id)[-1:] == [final]
        assert set(seen.attempts_started(job_id)) <= set(range(1, final + 1))
        for attempt in range(1, final):
            assert seen.start_pids.get((job_id, attempt), {victim.pid}) == {victim.pid}
        if final > 1:
            assert victim.pid not in seen.start_pids[(job_id, final)]
    assert any("rescued job" in cluster.procs.log(cluster.worker_logs[n]) for n in survivors)
    print(f"\n{len(in_flight)} jobs running on the killed worker, {len(rescued)} rescued")
    alive = [cluster.workers[n] for n in survivors] + cluster.api_procs
    assert all(proc.poll() is None for proc in alive)


def running_on(markers: Markers, pid: int) -> set[str]:
    """Jobs `pid` has started and not finished, by the handlers' marker files."""
    return {
        job_id
        for (job_id, _attempt), pids in markers.start_pids.items()
        if pid in pids and job_id not in markers.done
    }


async def busiest_worker(cluster: Cluster, markers: Path) -> subprocess.Popen[bytes]:
    """The worker running the most jobs right now (on a loaded machine any one worker may be
    between claims at a given instant, so the victim is chosen, not fixed)."""
    deadline = time.monotonic() + 10
    while True:
        seen = Markers.read(markers)
        load = {proc: len(running_on(seen, proc.pid)) for proc in cluster.workers}
        victim = max(load, key=lambda proc: load[proc])
        if load[victim] >= 2 or time.monotonic() > deadline:
            return victim
        await asyncio.sleep(0.01)


# -- 3. leader-only maintenance ----------------------------------------------------------------
def leader_logs(cluster: Cluster) -> dict[str, int]:
    names = [f"api-{n}" for n in range(len(cluster.apis))] + cluster.worker_logs
    return {name: cluster.procs.log(name).count(LEADER_LOG) for name in names}


async def wait_for_leaders(cluster: Cluster, expected: int, timeout: float) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while sum((counts := leader_logs(cluster)).values()) < expected:
        assert time.monotonic() < deadline, f"leadership not acquired in {timeout}s: {counts}"
        await asyncio.sleep(0.02)
    return counts


@pytest.mark.timeout(60)
async def test_exactly_one_maintenance_leader_and_a_fast_takeover_after_kill_9(
    cluster: Cluster,
) -> None:
    cluster.start(apis=2, workers=3)
    database = cluster.procs.database

    await wait_for_leaders(cluster, 1, timeout=10)
    await asyncio.sleep(2.0)  # four maintenance intervals: nobody else takes it
    counts = leader_logs(cluster)
    assert sum(counts.values()) == 1, counts
    assert await advisory_locks(database) == 1
    (leader,) = (name for name, n in counts.items() if n)
    assert leader.startswith("worker-")  # `joblane api` runs no maintenance

    victim = cluster.workers[cluster.worker_logs.index(leader)]
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    killed_at = time.monotonic()
    await wait_for_leaders(cluster, 2, timeout=5)
    takeover = time.monotonic() - killed_at

    await asyncio.sleep(2.0)
    counts = leader_logs(cluster)
    assert sum(counts.values()) == 2, counts
    assert counts[leader] == 1
    assert await advisory_locks(database) == 1
    for name in cluster.worker_logs:
        assert "leadership lost" not in cluster.procs.log(name)
    print(f"maintenance leadership taken over {takeover:.2f}s after kill -9")


# -- 4. concurrent migrations ------------------------------------------------------------------
@pytest.mark.timeout(60)
async def test_five_concurrent_migrations_apply_the_schema_once(tmp_path: Path) -> None:
    available = [m.version for m in migrations.discover("joblane.storage.postgres.migrations")]
    async with pg.fresh_database(migrated=False) as url:
        procs = Processes(workdir=tmp_path, database=url)
        try:
            # Hold the migrations lock until all five wait for it: they really run together.
            gate = await asyncpg.connect(url)
            try:
                async with gate.transaction():
                    await gate.execute(POSTGRES_QUERIES["migrations_lock"].sql)
                    started = [procs.start("migrate", log_name=f"migrate-{n}") for n in range(5)]
                    deadline = time.monotonic() + 30
                    while await advisory_locks(url, granted=False) < 5:
                        assert time.monotonic() < deadline, "the migrations did not queue up"
                        assert all(proc.poll() is None for proc in started)
                        await asyncio.sleep(0.05)
            finally:
                await gate.close()
            codes = [await asyncio.to_thread(proc.wait, 60) for proc in started]
            outputs = [procs.log(f"migrate-{n}") for n in range(5)]
            assert codes == [0] * 5, outputs
            applied = [o for o in outputs if "applied migrations" in o]
            assert applied == [f"applied migrations {available}\n"], outputs
            assert sum("schema is up to date" in o for o in outputs) == 4, outputs

            rows = await fetch(url, "SELECT version FROM schema_migrations ORDER BY version")
            assert [r["version"] for r in rows] == available
            assert procs.run("migrate") == "schema is up to date"
        finally:
            procs.stop_all()


# -- 5. PostgreSQL restarted under load --------------------------------------------------------
@dataclass(frozen=True)
class Exchange:
    sent: float
    answered: float
    method: str
    status: int | None  # None: no answer (timeout or transport error)
    code: str | None = None
    retry_after: str | None = None
    content_type: str = ""
    error: str | None = None
    job_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in (200, 202)

    @property
    def unavailable(self) -> bool:
        return (
            self.status == 503
            and self.code == "UNAVAILABLE"
            and self.retry_after is not None
            and self.retry_after.isdigit()
            and self.content_type.startswith("application/problem+json")
        )


async def exchange(client: httpx.AsyncClient, method: str, path: str, **kw: Any) -> Exchange:
    sent = time.monotonic()
    try:
        response = await client.request(method, path, **kw)
    except httpx.HTTPError as exc:  # a hang (5 s timeout) or a dropped connection
        return Exchange(sent, time.monotonic(), method, None, error=repr(exc))
    code = job_id = None
    with contextlib.suppress(ValueError, KeyError, AttributeError):
        if response.headers.get("content-type", "").startswith("application/problem+json"):
            code = response.json().get("code")
        elif response.status_code == 202:
            job_id = response.json()["id"]
    return Exchange(
        sent,
        time.monotonic(),
        method,
        response.status_code,
        code,
        response.headers.get("retry-after"),
        response.headers.get("content-type", ""),
        None if response.status_code < 500 else response.text[:300],
        job_id,
    )


async def keep_busy(
    client: httpx.AsyncClient,
    markers: Path,
    until: list[float],
    acked: list[str],
    seen: list[Exchange],
) -> None:
    """Submit a job, read one back, repeat, until the (movable) deadline `until[0]`."""
    while time.monotonic() < until[0]:
        posted = await exchange(client, "POST", "/v1/jobs", json=nap(0.05, markers))
        seen.append(posted)
        if posted.job_id is not None:
            acked.append(posted.job_id)
        if acked:
            seen.append(await exchange(client, "GET", f"/v1/jobs/{acked[-1]}"))
        await asyncio.sleep(0.05)


@pytest.mark.timeout(120)
async def test_postgres_restart_under_load_answers_503_and_recovers(
    cluster: Cluster, pg_key: str, markers: Path
) -> None:
    cluster.start(apis=1, workers=2)
    acked: list[str] = []
    seen: list[Exchange] = []
    until = [time.monotonic() + 60.0]
    client = httpx.AsyncClient(
        base_url=cluster.apis[0],
        headers={"X-API-Key": pg_key},
        timeout=5.0,
    )
    clients: list[asyncio.Task[None]] = []
    try:
        clients = [
            asyncio.create_task(keep_busy(client, markers, until, acked, seen)) for _ in range(4)
        ]
        await asyncio.sleep(5.0)
        stopped_at = time.monotonic()
        await asyncio.to_thread(pg_ctl, "stop")
        await asyncio.sleep(3.0)
        await asyncio.to_thread(pg_ctl, "start")
        back_at = await wait_pg_accepting(30)
        until[0] = back_at + 12.0
        await asyncio.gather(*clients)
    finally:
        until[0] = 0.0  # each client stops within one request timeout
        await asyncio.gather(*clients, return_exceptions=True)
        await client.aclose()
        await ensure_pg_running()

    bad = [e for e in seen if not (e.ok or e.unavailable)]
    assert not bad, f"{len(bad)} bad answers, e.g. {bad[:5]}"
    outage = [e for e in seen if e.unavailable]
    assert outage, "the outage was not noticed"
    first_ok = min((e.answered for e in seen if e.ok and e.sent >= back_at), default=math.inf)
    recovery = first_ok - back_at
    assert recovery < 10.0
    late_503 = [e for e in outage if e.sent >= first_ok]
    assert len({e.sent for e in seen if e.ok and e.sent >= back_at + 2}) > 20  # steady again

    job_ids = list(acked)
    assert len(set(job_ids)) == sum(1 for e in seen if e.status == 202)
    deadline = time.monotonic() + 40
    while True:
        rows = await fetch(
            cluster.procs.database, "SELECT id, state FROM jobs WHERE id = ANY($1)", job_ids
        )
        found = {r["id"]: r["state"] for r in rows}
        assert set(found) == set(job_ids), "an acknowledged job is missing"
        if set(found.values()) == {"completed"}:
            break
        assert time.monotonic() < deadline, f"not all completed: {Counter(found.values())}"
        await asyncio.sleep(0.5)
    assert_alive(cluster)
    print(
        f"\n{len(seen)} answers, {len(job_ids)} jobs acknowledged; PostgreSQL down for "
        f"{back_at - stopped_at:.1f}s; {len(outage)} x 503 UNAVAILABLE "
        f"({len(late_503)} after the first success); first 2xx {recovery:.2f}s after "
        "PostgreSQL accepted connections again; slowest answer "
        f"{max(e.answered - e.sent for e in seen):.2f}s"
    )
