"""Fair share end to end on real processes (one `joblane api`, three `joblane worker`s, one
database; both backends): a tenant capped with `joblane tenants set … max_running=3` floods the
queue with jobs and a batch; across the three worker processes never more than three of its jobs
run at once, its queued jobs say `tenant_limit`, and another tenant's jobs, queued behind the
flood, run at once. Then the cap is raised and the tenant runs more at once."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
import pytest

from acceptance.pgprocs import Cluster
from acceptance.procs import Processes

pytestmark = pytest.mark.acceptance

FLOOD, QUIET = "flood", "quiet"
TERMINAL = ("completed", "failed", "cancelled")


@pytest.fixture
def cluster(procs: Processes) -> Cluster:
    procs.env_overrides.update({"JOBLANE_CONCURRENCY": "8", "JOBLANE_LEASE_SECONDS": "10"})
    procs.run("tenants", "set", FLOOD, "--setting", "max_running=3")
    cluster = Cluster(procs)
    cluster.start(apis=1, workers=3)
    return cluster


def client_of(cluster: Cluster, tenant_id: str) -> httpx.Client:
    key = cluster.procs.run("keys", "create", "--tenant", tenant_id)
    return httpx.Client(base_url=cluster.apis[0], headers={"X-API-Key": key}, timeout=60)


@pytest.fixture
def clients(cluster: Cluster) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    with client_of(cluster, FLOOD) as flood, client_of(cluster, QUIET) as quiet:
        yield flood, quiet


def item(index: int, seconds: float) -> dict[str, Any]:
    return {"type": "batch_item", "input": {"index": index, "seconds": seconds}}


def submit_jobs(client: httpx.Client, count: int, seconds: float) -> list[str]:
    ids = []
    for index in range(count):
        response = client.post("/v1/jobs", json=item(index, seconds))
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    return ids


def submit_batch(client: httpx.Client, count: int, seconds: float) -> list[str]:
    body = "".join(json.dumps(item(1000 + i, seconds)) + "\n" for i in range(count))
    headers = {"Content-Type": "application/x-ndjson"}
    response = client.post("/v1/batches", content=body.encode(), headers=headers)
    assert response.status_code == 202, response.text
    listed = client.get(f"/v1/batches/{response.json()['id']}/jobs", params={"limit": 100})
    return [job["id"] for job in listed.json()["data"]]


def waiting_reasons(client: httpx.Client, job_ids: list[str]) -> set[str]:
    """What queued jobs say while they wait (a job may be claimed between two reads; the API
    caches a tenant's count of running jobs for a second; on a loaded machine the workers may
    take a few seconds to claim the first three: the loop ends as soon as it sees the cap)."""
    reasons: set[str] = set()
    deadline = time.monotonic() + 6.0
    while "tenant_limit" not in reasons and time.monotonic() < deadline:
        for job_id in job_ids:
            job = client.get(f"/v1/jobs/{job_id}").json()
            if job["status"] == "queued":
                reasons.add(job["waiting_reason"])
        time.sleep(0.05)
    return reasons


def finished(client: httpx.Client, job_ids: list[str], timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    done: dict[str, dict[str, Any]] = {}
    while len(done) < len(job_ids):
        assert time.monotonic() < deadline, f"{len(job_ids) - len(done)} jobs unfinished"
        for job_id in job_ids:
            if job_id not in done:
                job = client.get(f"/v1/jobs/{job_id}").json()
                if job["status"] in TERMINAL:
                    done[job_id] = job
        time.sleep(0.05)
    assert {job["status"] for job in done.values()} == {"completed"}
    return [done[job_id] for job_id in job_ids]


def most_overlapping(intervals: Iterable[tuple[float, float]]) -> int:
    events = sorted(e for start, end in intervals for e in ((start, 1), (end, -1)))
    running = peak = 0
    for _, step in events:  # an end sorts before a start at the same instant
        running += step
        peak = max(peak, running)
    return peak


def intervals(jobs: list[dict[str, Any]]) -> list[tuple[float, float]]:
    return [(job["result"]["started"], job["result"]["ended"]) for job in jobs]


@pytest.mark.timeout(90)
def test_a_capped_tenant_floods_while_another_runs_at_once(
    cluster: Cluster, clients: tuple[httpx.Client, httpx.Client]
) -> None:
    flood, quiet = clients
    seconds = 0.25
    flooded = submit_jobs(flood, 45, seconds) + submit_batch(flood, 15, seconds)
    reasons = waiting_reasons(flood, flooded[-5:])
    assert "tenant_limit" in reasons and reasons <= {"tenant_limit", "queue_backlog"}, reasons
    submitted = time.time()
    quick = submit_jobs(quiet, 6, seconds)

    quiet_done = finished(quiet, quick, timeout=30)
    flood_done = finished(flood, flooded, timeout=60)

    assert most_overlapping(intervals(flood_done)) == 3
    quiet_ended = max(end for _, end in intervals(quiet_done))
    flood_ended = max(end for _, end in intervals(flood_done))
    assert quiet_ended - submitted < 2.0, "the quiet tenant waited for the flood"
    assert flood_ended > quiet_ended + 1.0  # the flood was still being worked off
    span = flood_ended - min(start for start, _ in intervals(flood_done))
    assert span >= len(flooded) * seconds / 3 * 0.95
    print(
        f"\nflood of {len(flooded)} at max_running=3 took {span:.2f}s; quiet tenant's "
        f"{len(quick)} jobs done {quiet_ended - submitted:.2f}s after submission"
    )


@pytest.mark.timeout(90)
def test_raising_the_cap_lets_more_run_without_a_restart(
    cluster: Cluster, clients: tuple[httpx.Client, httpx.Client]
) -> None:
    flood, _ = clients
    seconds = 0.4
    before = submit_jobs(flood, 9, seconds)
    finished(flood, before, timeout=30)
    cluster.procs.run("tenants", "set", FLOOD, "--setting", "max_running=6")
    after = submit_jobs(flood, 18, seconds)

    assert most_overlapping(intervals(finished(flood, before, timeout=5))) == 3
    assert most_overlapping(intervals(finished(flood, after, timeout=30))) == 6
