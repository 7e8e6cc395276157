"""Helpers shared by the batch API tests: items of the `batch_item` test type (see apps.py),
submitting and reading batches, and the invariants every batch body keeps."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from api.conftest import JSON, Api, Headers, assert_problem

UNKNOWN_BATCH = "bat_" + "0" * 26
PROGRESS_KEYS = ("completed", "failed", "pending", "processing", "cancelled")
NDJSON = {"Content-Type": "application/x-ndjson"}


def ok(index: int, seconds: float = 0.0, **metadata: str) -> JSON:
    """An item that completes with `{"index": index, …}`."""
    item: JSON = {"type": "batch_item", "input": {"index": index, "seconds": seconds}}
    if metadata:
        item["metadata"] = metadata
    return item


def bad(index: int, code: str) -> JSON:
    """An item that fails with error `code`."""
    return {"type": "batch_item", "input": {"index": index, "fail": code}}


def ndjson(items: list[Any]) -> bytes:
    return b"".join(orjson.dumps(item) + b"\n" for item in items)


def batch_endpoints(batch_id: str) -> list[tuple[str, str]]:
    """Every endpoint that takes a batch id: (method, path)."""
    base = f"/v1/batches/{batch_id}"
    return [
        ("GET", base),
        ("POST", f"{base}/pause"),
        ("POST", f"{base}/resume"),
        ("POST", f"{base}/cancel"),
        ("POST", f"{base}/retry-failed"),
        ("GET", f"{base}/jobs"),
        ("GET", f"{base}/results"),
        ("GET", f"{base}/events"),
    ]


async def submit_batch(api: Api, headers: Headers, jobs: list[JSON], **options: Any) -> JSON:
    """POST /v1/batches (JSON) and return the batch (asserting the 202)."""
    response = await api.client.post("/v1/batches", json={**options, "jobs": jobs}, headers=headers)
    assert response.status_code == 202, response.text
    batch: JSON = response.json()
    assert_consistent(batch)
    return batch


async def get_batch(api: Api, headers: Headers, batch_id: str, **params: Any) -> JSON:
    response = await api.client.get(f"/v1/batches/{batch_id}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    batch: JSON = response.json()
    assert_consistent(batch)
    return batch


async def action(api: Api, headers: Headers, batch_id: str, verb: str, **body: Any) -> JSON:
    """POST /v1/batches/{id}/{verb}, asserting success: 200, or 202 for retry-failed and for a
    cancel that still waits for running items to stop."""
    response = await api.client.post(
        f"/v1/batches/{batch_id}/{verb}", json=body or None, headers=headers
    )
    assert response.status_code in (200, 202), response.text
    batch: JSON = response.json()
    assert_consistent(batch)
    if verb == "retry-failed":
        assert response.status_code == 202
    elif verb == "cancel":
        stopping = batch["progress"]["processing"] > 0
        assert response.status_code == (202 if stopping else 200), batch
        assert batch["status"] == ("running" if stopping else "cancelled"), batch
        assert batch["cancel_requested"] is True
    else:
        assert response.status_code == 200
    return batch


async def items_of(api: Api, headers: Headers, batch_id: str, **params: Any) -> list[JSON]:
    """Every item of the batch in item order (all pages of GET /v1/batches/{id}/jobs)."""
    items: list[JSON] = []
    cursor: str | None = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {}), "limit": 1000}
        response = await api.client.get(
            f"/v1/batches/{batch_id}/jobs", params=query, headers=headers
        )
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def assert_nothing_created(api: Api, headers: Headers) -> None:
    """No batch and no job is visible to the tenant of `headers`."""
    batches = await api.client.get("/v1/batches", headers=headers)
    jobs = await api.client.get("/v1/jobs", headers=headers)
    assert batches.status_code == jobs.status_code == 200
    assert batches.json()["data"] == []
    assert jobs.json()["data"] == []


def assert_consistent(batch: JSON) -> None:
    """The counts sum to the total and the percentage is the finished share."""
    progress = batch.get("progress")
    if progress is None:
        return
    assert sum(progress[key] for key in PROGRESS_KEYS) == progress["total"], progress
    finished = progress["completed"] + progress["failed"] + progress["cancelled"]
    expected = 100.0 if progress["total"] == 0 else round(100 * finished / progress["total"], 2)
    assert progress["percentage"] == expected, progress


def assert_validation_error(response: httpx.Response, where: str, loc: list[Any]) -> JSON:
    """A 422 whose detail names `where` (`line 3`, `jobs[2]`) and whose first error is at
    `loc` (or inside it)."""
    body = assert_problem(response, 422, "VALIDATION_ERROR", detail=where)
    assert body["errors"], body
    first = body["errors"][0]["loc"]
    assert first[: len(loc)] == loc, body["errors"]
    return body
