"""Batch benchmarks against real `joblane` processes.

    .venv/bin/python bench/batches.py submit  [--backend postgres] [--items 100000]
    .venv/bin/python bench/batches.py status  [--backend postgres] [--small 100] [--large 1000000]
    .venv/bin/python bench/batches.py throughput [--backend postgres] [--items 50000] [--workers 2]
    .venv/bin/python bench/batches.py results [--backend postgres] [--items 1000000]

- submit: one `POST /v1/batches` of N items as JSONL; the clock stops at the 202 (committed).
- status: `GET /v1/batches/{id}` latency (wrk, 8 connections) on a small and a large batch.
- throughput: N no-op items as one batch vs N unbatched jobs, same workers (jobs/s each).
- results: stream `GET /v1/batches/{id}/results` of N items; the API process's RSS is sampled.
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from harness import Cluster, backend_option, cluster, machine
from joblane.core import ids
from joblane.core.batch import NewBatch
from joblane.core.job import NewJob
from joblane.storage.factory import storage_for
from status import wrk
from throughput import Progress, fill

LINE = b'{"type": "noop", "input": {}, "metadata": {"row": "%d"}}\n'


def jsonl(count: int) -> Iterator[bytes]:
    for start in range(0, count, 10_000):
        yield b"".join(LINE % i for i in range(start, min(count, start + 10_000)))


def submit_jsonl(url: str, key: str, count: int) -> tuple[str, float]:
    began = time.perf_counter()
    response = httpx.post(
        f"{url}/v1/batches",
        content=jsonl(count),
        headers={"X-API-Key": key, "Content-Type": "application/x-ndjson"},
        timeout=600,
    )
    elapsed = time.perf_counter() - began
    response.raise_for_status()
    return str(response.json()["id"]), elapsed


def api(c: Cluster) -> tuple[str, str]:
    key = c.run("keys", "create", "--tenant", "bench")
    return c.start_http("api"), key


def bench_submit(backend: str, items: int) -> None:
    with cluster(backend) as c:
        url, key = api(c)
        submit_jsonl(url, key, 1000)  # warm-up
        _, elapsed = submit_jsonl(url, key, items)
    print(
        f"batch submit [{backend}]: {items:,} items as JSONL in one POST, accepted (committed) "
        f"in {elapsed:.2f}s = {items / elapsed:,.0f} items/s ({machine()})"
    )


def bench_status(backend: str, small: int, large: int, duration: int) -> None:
    with cluster(backend) as c:
        url, key = api(c)
        rows = []
        for size in (small, large):
            batch_id, took = submit_jsonl(url, key, size)
            target = f"{url}/v1/batches/{batch_id}"
            wrk(target, key, 8, 2, 1)  # warm-up
            r = wrk(target, key, 8, duration, 1)
            rows.append((size, took, r))
    for size, took, r in rows:
        print(
            f"batch GET [{backend}]: {size:,} items (submitted in {took:.1f}s), 8 connections, "
            f"{duration}s: {float(r['rps']):,.0f} req/s, p50 {r['p50']}, p99 {r['p99']}, "
            f"non-2xx {r['errors']} ({machine()})"
        )


async def fill_batch(database_url: str, count: int) -> None:
    """One batch of `count` no-op items, written through the storage layer."""
    storage = storage_for(database_url)
    await storage.open()
    try:
        batch = NewBatch(ids.new_id(ids.BATCH), "bench")
        upload = await storage.batch_open(batch)
        for start in range(0, count, 5000):
            chunk = [
                NewJob(ids.new_id(ids.JOB), "bench", "noop", {}, batch_id=batch.id)
                for _ in range(start, min(count, start + 5000))
            ]
            await upload.add(chunk)
        await upload.commit()
    finally:
        await storage.close()


def run_once(backend: str, items: int, workers: int, concurrency: int, batched: bool) -> float:
    with cluster(backend) as c:
        filler = fill_batch(c.database_url, items) if batched else fill(c.database_url, items)
        asyncio.run(filler)
        for _ in range(workers):
            c.start("worker", "bench_app:app", "--concurrency", str(concurrency))
        timed, elapsed = asyncio.run(Progress(c.database_url).watch(items))
    return timed / elapsed


def bench_throughput(backend: str, items: int, workers: int, concurrency: int) -> None:
    plain = run_once(backend, items, workers, concurrency, batched=False)
    batched = run_once(backend, items, workers, concurrency, batched=True)
    print(
        f"batch throughput [{backend}]: {items:,} no-op items, {workers} worker(s), concurrency "
        f"{concurrency}: unbatched {plain:,.0f} jobs/s, one batch {batched:,.0f} jobs/s "
        f"({100 * (batched / plain - 1):+.1f}%) ({machine()})"
    )


def rss_kib(pid: int) -> int:
    """Resident memory of a process and its children (uvicorn may fork)."""
    total = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total += int(line.split()[1])
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += rss_kib(int(child))
    return total


def bench_results(backend: str, items: int) -> None:
    with cluster(backend) as c:
        url, key = api(c)
        pid = c.procs[-1].pid
        batch_id, took = submit_jsonl(url, key, items)
        time.sleep(1.0)
        before = rss_kib(pid)
        samples: list[int] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                samples.append(rss_kib(pid))
                time.sleep(0.1)

        sampler = threading.Thread(target=sample)
        sampler.start()
        began, lines, size = time.perf_counter(), 0, 0
        with httpx.stream(
            "GET", f"{url}/v1/batches/{batch_id}/results", headers={"X-API-Key": key}, timeout=600
        ) as response:
            for line in response.iter_lines():
                lines += 1
                size += len(line)
        elapsed = time.perf_counter() - began
        stop.set()
        sampler.join()
        after = rss_kib(pid)
    print(
        f"batch results [{backend}]: {lines:,} lines ({size / 1e6:.0f} MB) streamed in "
        f"{elapsed:.1f}s; API RSS before {before / 1024:.0f} MB, peak {max(samples) / 1024:.0f} "
        f"MB, after {after / 1024:.0f} MB (batch submitted in {took:.1f}s) ({machine()})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["submit", "status", "throughput", "results"])
    parser.add_argument("--items", type=int, default=None)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=200)
    backend_option(parser)
    args = parser.parse_args()
    if args.what == "submit":
        bench_submit(args.backend, args.items or 100_000)
    elif args.what == "status":
        bench_status(args.backend, args.small, args.large, args.duration)
    elif args.what == "throughput":
        bench_throughput(args.backend, args.items or 50_000, args.workers, args.concurrency)
    else:
        bench_results(args.backend, args.items or 1_000_000)


if __name__ == "__main__":
    main()
