"""toolkitapi (seed 004): the document's requests (curl with a key; Python and JavaScript,
which send none), in every lifecycle state it names (queued, running, succeeded, failed), the
`POST /v1/query/{query_id}` with `"execution_mode": "async"` it tells clients to call first, a
synchronous query, and the 501 of a server where async jobs are not enabled."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.conftest import background_worker
from compat.conftest import REGISTRY, Compat, fixture, serve_compat
from compat.replay import replay, replay_all, requests_of
from compat.served import poll, serve_profile
from compat.shapes import assert_shape
from joblane.app import Joblane
from joblane.compat.mount import CompatConfig
from joblane.storage.base import Storage

ROOT = "/compat/toolkitapi"
JSON = dict[str, Any]
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
QUERY = {
    "dataset_id": "dset_abc123",
    "rows": [
        {"region": "North", "revenue": 40000.5},
        {"region": "South", "revenue": 31205.0},
        {"region": "North", "revenue": 8320.0},
    ],
    "group_by": ["region"],
    "aggregate": {"revenue": "sum"},
}
ERROR = {"error": {"code": "JOB_NOT_FOUND", "message": "Job 'job_abc001' not found"}}


def assert_like_example(body: JSON) -> None:
    """The example's keys and types; `results` (rows mix strings and numbers) checked apart."""
    example = dict(fixture("toolkitapi", "succeeded"))
    results = example.pop("results")
    actual = dict(body)
    got = actual.pop("results")
    nullable = frozenset({"$.error", "$.completed_at", "$.query_id", "$.dataset_id"})
    assert_shape(actual, example, nullable=nullable)
    assert body["status"] in fixture("toolkitapi", "statuses")
    assert ISO.match(body["created_at"])
    if body["status"] != "succeeded":
        assert got is None
        return
    assert set(got) == set(results)
    assert all(isinstance(column, str) for column in got["columns"])
    assert all(len(row) == len(got["columns"]) for row in got["rows"])
    assert got["row_count"] == len(got["rows"])
    assert ISO.match(body["completed_at"])


async def read(compat: Compat, job_id: str) -> JSON:
    """The document's curl request (with the key): 200 and the example's shape."""
    (_, response), *_ = await replay_all(
        compat.client, "toolkitapi", ROOT, job_id=job_id, api_key=compat.key_a
    )
    assert response.status_code == 200, response.text
    body: JSON = response.json()
    assert_like_example(body)
    canonical = await compat.canonical(job_id)
    words = {"completed": "succeeded", "cancelled": "failed"}
    assert body["status"] == words.get(canonical["status"], canonical["status"])
    assert body["created_at"] == canonical["created_at"][:19] + "Z"
    return body


async def submit(compat: Compat, mode: str, query_id: str = "qry_xyz789") -> JSON:
    (post,) = [shown for shown in requests_of("toolkitapi") if shown["method"] == "POST"]
    shown = {**post, "json": {**post["json"], "execution_mode": mode, **QUERY}}
    response = await replay(compat.client, shown, ROOT, query_id=query_id, api_key=compat.key_a)
    assert response.status_code in (200, 202), response.text
    body: JSON = response.json()
    assert_like_example(body)
    assert response.headers["location"] == f"{ROOT}/v1/jobs/{body['job_id']}"
    return body


async def test_async_query_through_every_state(compat: Compat) -> None:
    queued = await submit(compat, "async")
    assert (queued["status"], queued["progress"], queued["results"]) == ("queued", 0, None)
    assert (queued["query_id"], queued["dataset_id"]) == ("qry_xyz789", "dset_abc123")
    job_id = queued["job_id"]
    assert (await read(compat, job_id))["status"] == "queued"

    await compat.drive.start(job_id, processed=2, total=3)
    running = await read(compat, job_id)
    assert (running["status"], running["progress"], running["completed_at"]) == (
        "running",
        66,
        None,
    )

    await compat.drive.complete(
        job_id, {"columns": ["region"], "rows": [["North"]], "row_count": 1}
    )
    succeeded = await read(compat, job_id)
    assert succeeded["results"] == {"columns": ["region"], "rows": [["North"]], "row_count": 1}
    assert (succeeded["progress"], succeeded["error"]) == (100, None)


async def test_real_query_and_failure(compat: Compat) -> None:
    queued = await submit(compat, "async")
    bad = await submit(compat, "async", query_id="qry_bad")
    await compat.drive.start(bad["job_id"])
    await compat.drive.fail(bad["job_id"], "UNKNOWN_COLUMN", "unknown column(s) 'revenue'")
    assert await compat.api.run_worker() == 1

    succeeded = await read(compat, queued["job_id"])
    assert succeeded["results"] == {
        "columns": ["region", "sum_revenue"],
        "rows": [["North", 48320.5], ["South", 31205.0]],
        "row_count": 2,
    }
    failed = await read(compat, bad["job_id"])
    assert failed["error"] == "unknown column(s) 'revenue'"
    assert failed["results"] is None and ISO.match(failed["completed_at"])


async def test_sync_query_waits_for_the_result(compat: Compat) -> None:
    async with background_worker(compat.api):
        done = await submit(compat, "sync")
    assert done["status"] == "succeeded"
    assert done["results"]["row_count"] == 2


async def test_requests_without_a_key_and_errors(compat: Compat) -> None:
    job = await submit(compat, "async")
    responses = await replay_all(
        compat.client, "toolkitapi", ROOT, job_id=job["job_id"], api_key=compat.key_a
    )
    statuses = {source: response.status_code for source, response in responses}
    assert list(statuses.values()) == [200, 401, 401], statuses  # Python and JS send no key
    for _, response in responses[1:]:
        assert_shape(response.json(), ERROR)
        assert response.json()["error"]["code"] == "UNAUTHORIZED"

    headers = {"X-API-Key": compat.key_a}
    cases = [
        ("GET", "/v1/jobs/job_abc001", None, 400, "INVALID_JOB_ID"),
        ("GET", "/v1/jobs/job_01HZZZZZZZZZZZZZZZZZZZZZZZ", None, 404, "JOB_NOT_FOUND"),
        ("POST", "/v1/query/qry_1", {"execution_mode": "later"}, 422, "VALIDATION_ERROR"),
        ("POST", "/v1/query/qry_1", {"execution_mode": "async"}, 422, "VALIDATION_ERROR"),
    ]
    for method, path, body, status, code in cases:
        response = await compat.client.request(method, ROOT + path, json=body, headers=headers)
        assert response.status_code == status, (path, response.text)
        shown = {key: value for key, value in response.json()["error"].items() if key != "details"}
        assert_shape({"error": shown}, ERROR)
        assert response.json()["error"]["code"] == code
    other = await compat.client.get(
        f"{ROOT}/v1/jobs/{job['job_id']}", headers={"X-API-Key": compat.key_b}
    )
    assert other.status_code == 404  # the document names no FORBIDDEN: as the canonical API


async def test_501_until_async_jobs_are_enabled(storage: Storage) -> None:
    registry = Joblane("phase-1")
    registry.include(REGISTRY)
    registry.disable("analytics_query")
    async with serve_compat(storage, CompatConfig(("toolkitapi",)), registry) as compat:
        job = await compat.submit("noop", {})
        headers = {"X-API-Key": compat.key_a}
        read = await compat.client.get(f"{ROOT}/v1/jobs/{job['id']}", headers=headers)
        body = {"execution_mode": "async", **QUERY}
        query = await compat.client.post(f"{ROOT}/v1/query/q1", json=body, headers=headers)
    for response in (read, query):
        assert response.status_code == 501, response.text
        assert response.json()["error"]["code"] == "NOT_IMPLEMENTED"


# -- a real `joblane serve --profile toolkitapi` ---------------------------------------------------
@pytest.mark.acceptance
def test_document_requests_against_a_real_server(tmp_path: Path) -> None:
    """Step 1-5 of the document's "How to Use" with only the host changed."""
    limits = {"JOBLANE_RATE_READ": "5", "JOBLANE_RATE_READ_BURST": "40"}
    with serve_profile(tmp_path, "toolkitapi", limits) as (url, key):
        headers = {"X-API-Key": key}
        body = {"execution_mode": "async", **QUERY}
        submitted = httpx.post(f"{url}/v1/query/qry_xyz789", json=body, headers=headers)
        assert submitted.status_code == 202, submitted.text
        job_id = submitted.json()["job_id"]
        done = poll(
            lambda: httpx.get(f"{url}/v1/jobs/{job_id}", headers=headers).json(),
            lambda body: body["status"] in ("succeeded", "failed"),
            interval=0.25,  # under the read rate: the 429s come later, on purpose
        )
        assert_like_example(done)
        assert done["results"]["rows"] == [["North", 48320.5], ["South", 31205.0]]
        assert httpx.get(f"{url}/v1/jobs/{job_id}").status_code == 401  # as the Python example
        listed = httpx.get(f"{url}/v1/jobs", headers=headers).json()["data"]  # canonical
        assert [(job["id"], job["status"]) for job in listed] == [(job_id, "completed")]
        sync = httpx.post(
            f"{url}/v1/query/qry_sync", json={**body, "execution_mode": "sync"}, headers=headers
        )
        assert (sync.status_code, sync.json()["status"]) == (200, "succeeded")
        with httpx.Client(headers=headers) as client:  # far faster than 5 reads a second
            limited = poll(
                lambda: client.get(f"{url}/v1/jobs/{job_id}"),
                lambda response: response.status_code != 200,
                interval=0,
            )
        assert limited.status_code == 429, limited.text
        assert_shape(limited.json(), ERROR)
        assert limited.json()["error"]["code"] == "RATE_LIMITED"
