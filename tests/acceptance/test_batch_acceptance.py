"""Batches end to end on real processes (one `joblane api`, three `joblane worker`s, one
database; both backends): 10,000 items as JSONL with failures of three kinds, paused and
resumed mid-run, followed by long-polls to the end, then summarised and streamed back; a
`max_concurrent` limit held across worker processes; a batch `timeout` cancelling what is left."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
import pytest

from acceptance.pgprocs import Cluster
from acceptance.procs import Processes, wait_until
from apps import (
    BATCH_ITEM_HINTS,
    ERROR_RESOLUTIONS,
    FORMAT_ERROR,
    LOOKUP_FAILED,
    QUOTA_EXCEEDED,
)

pytestmark = pytest.mark.acceptance

TOTAL = 10_000
TERMINAL = ("completed", "failed", "cancelled")
RESOLUTIONS = {**ERROR_RESOLUTIONS, **BATCH_ITEM_HINTS}


def failure(index: int) -> str | None:
    """3.4% of the items fail, deterministically: 200 FORMAT_ERROR, 100 QUOTA_EXCEEDED and 40
    LOOKUP_FAILED (the only code whose resolution comes from the job type's hints)."""
    if index % 50 == 7:
        return FORMAT_ERROR
    if index % 100 == 23:
        return QUOTA_EXCEEDED
    if index % 250 == 91:
        return LOOKUP_FAILED
    return None


def jsonl(items: Iterable[dict[str, Any]]) -> bytes:
    lines = (json.dumps({"type": "batch_item", "input": item}) for item in items)
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def cluster(procs: Processes) -> Cluster:
    # A longer lease than the fixture's 1.5 s: on SQLite, three workers' writes contend for one
    # lock and a claim's outcomes can wait over a second (then the items would be rescued).
    procs.env_overrides.update({"JOBLANE_CONCURRENCY": "8", "JOBLANE_LEASE_SECONDS": "10"})
    cluster = Cluster(procs)
    cluster.start(apis=1, workers=3)
    return cluster


@pytest.fixture
def client(cluster: Cluster, api_key: str) -> Iterator[httpx.Client]:
    headers = {"X-API-Key": api_key}
    with httpx.Client(base_url=cluster.apis[0], headers=headers, timeout=60) as client:
        yield client


def submit(client: httpx.Client, body: bytes, **options: str | int | float) -> dict[str, Any]:
    response = client.post(
        "/v1/batches",
        params=options,
        content=body,
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 202, response.text
    batch: dict[str, Any] = response.json()
    assert response.headers["location"] == f"/v1/batches/{batch['id']}"
    return batch


def read(client: httpx.Client, batch_id: str, **params: str) -> dict[str, Any]:
    response = client.get(f"/v1/batches/{batch_id}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def progress(client: httpx.Client, batch_id: str) -> dict[str, Any]:
    body = read(client, batch_id, metrics_only="true")
    counts: dict[str, Any] = body["progress"]
    counts["status"] = body["status"]
    return counts


def wait_finished(client: httpx.Client, batch_id: str, timeout: float) -> dict[str, Any]:
    """Follow the batch with `Prefer: wait` long-polls (conditional on the last version seen)
    until it is terminal with no item left running; then the full batch."""
    deadline = time.monotonic() + timeout
    version: int | None = None
    while True:
        headers = {"Prefer": "wait=10"}
        if version is not None:
            headers["If-None-Match"] = f'"{version}"'
        response = client.get(
            f"/v1/batches/{batch_id}", params={"metrics_only": "true"}, headers=headers
        )
        assert response.status_code in (200, 304), response.text
        if response.status_code == 200:
            assert response.headers["preference-applied"] == "wait=10"
            body = response.json()
            version = body["version"]
            unfinished = body["progress"]["pending"] + body["progress"]["processing"]
            if body["status"] in TERMINAL and unfinished == 0:
                return read(client, batch_id)
        assert time.monotonic() < deadline, f"batch not finished after {timeout}s"


def results(client: httpx.Client, batch_id: str) -> list[dict[str, Any]]:
    with client.stream("GET", f"/v1/batches/{batch_id}/results") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        return [json.loads(line) for line in response.iter_lines() if line]


# -- 1. ten thousand items, paused and resumed -------------------------------------------------
def assert_paused(client: httpx.Client, batch_id: str) -> dict[str, Any]:
    """Within a few seconds nothing runs any more; then nothing moves for more than a second."""
    wait_until(lambda: progress(client, batch_id)["processing"] == 0, timeout=5)
    frozen = progress(client, batch_id)
    assert frozen["status"] == "paused" and frozen["pending"] > 0, frozen
    until = time.monotonic() + 1.2
    while time.monotonic() < until:
        time.sleep(0.1)
        assert progress(client, batch_id) == frozen
    queued = client.get(f"/v1/batches/{batch_id}/jobs", params={"status": "queued", "limit": 1})
    job = client.get(f"/v1/jobs/{queued.json()['data'][0]['id']}").json()
    assert job["status"] == "queued" and job["waiting_reason"] == "batch_paused", job
    return frozen


@pytest.mark.timeout(240)
def test_ten_thousand_items_paused_resumed_summarised_and_streamed_in_order(
    cluster: Cluster, client: httpx.Client
) -> None:
    expected = {index: failure(index) for index in range(TOTAL)}
    failures = Counter(code for code in expected.values() if code)
    body = jsonl({"index": i, "seconds": (i % 3) / 1000, "fail": expected[i]} for i in range(TOTAL))

    began = time.monotonic()
    batch = submit(client, body, name="ten thousand")
    submitted = time.monotonic() - began
    batch_id = batch["id"]
    assert batch["progress"]["total"] == TOTAL
    assert batch["batch_configuration"]["max_concurrent"] is None

    wait_until(lambda: progress(client, batch_id)["completed"] >= 300, timeout=30, interval=0.02)
    paused = client.post(f"/v1/batches/{batch_id}/pause")
    assert paused.status_code == 200, paused.text
    assert paused.json()["status"] == "paused"
    frozen = assert_paused(client, batch_id)
    resumed = client.post(f"/v1/batches/{batch_id}/resume")
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["status"] == "running"

    final = wait_finished(client, batch_id, timeout=150)
    finished = time.monotonic() - began
    assert final["status"] == "completed", final
    lines = results(client, batch_id)
    assert len(lines) == TOTAL
    unexpected = [
        (index, line)
        for index, line in enumerate(lines)
        if line["status"] != ("failed" if expected[index] else "completed")
    ]
    assert not unexpected, f"{len(unexpected)} items ended unexpectedly, e.g. {unexpected[:5]}"
    assert final["progress"] == {
        "percentage": 100.0,
        "completed": TOTAL - failures.total(),
        "failed": failures.total(),
        "pending": 0,
        "processing": 0,
        "cancelled": 0,
        "total": TOTAL,
    }
    assert final["timing"]["completed_at"] and final["timing"]["started_at"]

    ids = [line["id"] for line in lines]
    assert ids == sorted(ids) and len(set(ids)) == TOTAL  # ids are made in item order
    failing_ids: dict[str, set[str]] = {code: set() for code in failures}
    pids: set[int] = set()
    for index, line in enumerate(lines):
        code = expected[index]
        if code is None:
            assert line["status"] == "completed" and "error" not in line, line
            assert line["result"]["index"] == index, line
            pids.add(line["result"]["pid"])
        else:
            assert line["status"] == "failed" and "result" not in line, line
            assert line["error"]["code"] == code, line
            assert line["error"]["details"] == {"index": index}, line
            failing_ids[code].add(line["id"])
    assert pids == {worker.pid for worker in cluster.workers}  # all three workers took part

    summary = {group["error_type"]: group for group in final["error_summary"]}
    assert set(summary) == set(failures)
    assert [g["error_type"] for g in final["error_summary"]] == [
        c for c, _ in failures.most_common()
    ]
    for code, group in summary.items():
        assert group["count"] == failures[code]
        assert group["resolution"] == RESOLUTIONS[code]
        assert group["affected_jobs"], group
        assert set(group["affected_jobs"]) <= failing_ids[code]
    print(
        f"\n{TOTAL} items submitted in {submitted:.1f}s, paused at {frozen['completed']} "
        f"completed, all done {finished:.1f}s after the submission began"
    )


# -- 2. max_concurrent across worker processes -------------------------------------------------
def most_overlapping(intervals: Iterable[tuple[float, float]]) -> int:
    events = sorted(e for start, end in intervals for e in ((start, 1), (end, -1)))
    running = peak = 0
    for _, step in events:  # an end sorts before a start at the same instant
        running += step
        peak = max(peak, running)
    return peak


@pytest.mark.timeout(60)
def test_max_concurrent_holds_across_three_worker_processes(
    cluster: Cluster, client: httpx.Client
) -> None:
    total, limit, seconds = 30, 3, 0.1
    items = jsonl({"index": i, "seconds": seconds} for i in range(total))
    batch = submit(client, items, max_concurrent=limit)
    batch_id = batch["id"]
    assert batch["batch_configuration"]["max_concurrent"] == limit
    seen_processing: set[int] = set()
    reasons: set[str] = set()
    deadline = time.monotonic() + 15  # ten rounds of 0.1 s items, three at a time
    while (now := progress(client, batch_id))["status"] not in TERMINAL:
        assert time.monotonic() < deadline, f"not finished after 15 s: {now}"
        seen_processing.add(now["processing"])
        if now["pending"] and not reasons:
            queued = client.get(f"/v1/batches/{batch_id}/jobs", params={"status": "queued"})
            for job in queued.json()["data"][:1]:
                latest = client.get(f"/v1/jobs/{job['id']}").json()
                if latest["status"] == "queued":  # it may have been claimed in between
                    reasons.add(latest["waiting_reason"])
        time.sleep(0.02)
    final = wait_finished(client, batch_id, timeout=30)
    assert final["status"] == "completed" and final["progress"]["completed"] == total

    lines = results(client, batch_id)
    intervals = [(line["result"]["started"], line["result"]["ended"]) for line in lines]
    assert most_overlapping(intervals) == limit
    assert max(seen_processing) <= limit
    assert reasons <= {"concurrency_limit", "queue_backlog"} and reasons, reasons
    span = max(end for _, end in intervals) - min(start for start, _ in intervals)
    assert span >= total * seconds / limit * 0.95
    pids = Counter(line["result"]["pid"] for line in lines)
    print(f"\nmax_concurrent={limit}: {total} items in {span:.2f}s on workers {dict(pids)}")


# -- 3. a batch timeout --------------------------------------------------------------------------
@pytest.mark.timeout(60)
def test_batch_timeout_cancels_the_unfinished_items_with_a_reason(
    cluster: Cluster, client: httpx.Client
) -> None:
    total, seconds, timeout = 20, 0.5, 1.5
    items = jsonl({"index": i, "seconds": seconds} for i in range(total))
    began = time.monotonic()
    batch = submit(client, items, max_concurrent=2, timeout=timeout)
    batch_id = batch["id"]
    assert batch["batch_configuration"]["timeout"] == timeout
    assert batch["timing"]["deadline"]

    final = wait_finished(client, batch_id, timeout=20)
    took = time.monotonic() - began
    assert final["status"] == "cancelled", final
    assert "timeout" in final["status_reason"], final
    counts = final["progress"]
    assert counts["pending"] == counts["processing"] == counts["failed"] == 0, counts
    assert counts["completed"] + counts["cancelled"] == total, counts
    assert 1 <= counts["completed"] <= 2 * timeout / seconds + 2, counts
    assert took < total * seconds / 2  # far sooner than running everything

    lines = results(client, batch_id)
    assert Counter(line["status"] for line in lines) == {
        "completed": counts["completed"],
        "cancelled": counts["cancelled"],
    }
    cancelled = client.get(
        f"/v1/batches/{batch_id}/jobs", params={"status": "cancelled", "limit": 100}
    ).json()["data"]
    assert len(cancelled) == counts["cancelled"]
    for job in cancelled:
        assert "timeout" in (job["cancel_reason"] or ""), job
    print(f"\ntimeout {timeout}s: {dict(counts)} after {took:.2f}s")
