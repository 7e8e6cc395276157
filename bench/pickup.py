"""Pickup latency: submit -> handler start, with an idle worker, one job at a time.

`created_at` is stamped inside the insert transaction; the `stamp` handler returns the time it
started. Runs both `joblane serve` (API and worker in one process) and `joblane api` + a separate
`joblane worker` (the worker learns of new jobs through SQLite's data_version).

    .venv/bin/python bench/pickup.py [--samples 300]
"""

from __future__ import annotations

import argparse
import time

import httpx

from harness import backend_option, cluster, machine, percentile
from joblane.core.clock import from_rfc3339


def sample(url: str, key: str, count: int) -> list[float]:
    latencies: list[float] = []
    with httpx.Client(base_url=url, headers={"X-API-Key": key, "Prefer": "wait=5"}) as client:
        for _ in range(count):
            job = client.post("/v1/jobs", json={"type": "stamp", "input": {}}).json()
            assert job["status"] == "completed", job
            latencies.append(job["result"]["started"] - from_rfc3339(job["created_at"]))
            time.sleep(0.02)  # the worker goes idle between samples
    return latencies


def visibility(url: str, key: str, count: int) -> list[float]:
    """Submit (no wait), then poll GET as fast as possible: time until it shows `completed`."""
    delays: list[float] = []
    with httpx.Client(base_url=url, headers={"X-API-Key": key}) as client:
        for _ in range(count):
            began = time.perf_counter()
            job_id = client.post("/v1/jobs", json={"type": "noop", "input": {}}).json()["id"]
            while client.get(f"/v1/jobs/{job_id}").json()["status"] != "completed":
                pass
            delays.append(time.perf_counter() - began)
            time.sleep(0.02)
    return delays


def report(what: str, label: str, latencies: list[float]) -> None:
    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    print(f"{what} ({label}): {len(latencies)} jobs, p50 {p50:.1f} ms, p99 {p99:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=300)
    backend_option(parser)
    args = parser.parse_args()
    with cluster(args.backend) as c:
        key = c.run("keys", "create", "--tenant", "bench")
        url = c.start_http("serve")
        sample(url, key, 20)
        label = f"{args.backend}, serve: API + worker in one process"
        report("pickup", label, sample(url, key, args.samples))
        report("completed visible to GET", label, visibility(url, key, args.samples))
    with cluster(args.backend) as c:
        key = c.run("keys", "create", "--tenant", "bench")
        url = c.start_http("api")
        c.start("worker", "bench_app:app")
        sample(url, key, 20)
        label = f"{args.backend}, api + separate worker process"
        report("pickup", label, sample(url, key, args.samples))
        report("completed visible to GET", label, visibility(url, key, args.samples))
    print(machine())


if __name__ == "__main__":
    main()
