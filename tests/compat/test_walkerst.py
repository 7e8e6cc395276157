"""`walkerst` (seed 000): every request the document shows, replayed against the profile (curl
status reads in each state, the JavaScript polling loop), its error cases, the same job through
the canonical API, the root mount in-process, and one real `joblane serve --profile walkerst`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.conftest import background_worker
from compat.conftest import Compat, fixture, real_server, serve_compat
from compat.shapes import assert_shape
from joblane.compat.mount import CompatConfig
from joblane.compat.profiles.walkerst import JOB_ID
from joblane.core.job import Progress
from joblane.storage.base import Storage

BASE = "/compat/walkerst"
STATUS_WORDS = {"New", "Processing", "Completed", "Failed"}


def transactions(count: int) -> dict[str, Any]:
    rows = [
        {"id": f"t{i}", "description": "TESCO STORES 1234", "amount": -12.5, "date": "2024-01-15"}
        for i in range(count)
    ]
    return {"transactions": rows}


async def status(compat: Compat, job_id: str, key: str | None = None) -> httpx.Response:
    """The document's curl: GET …/v1/jobs/{jobId}/status with `x-api-key`."""
    shown = JOB_ID.show(job_id)
    headers = {"x-api-key": key or compat.key_a}
    return await compat.client.get(f"{BASE}/v1/jobs/{shown}/status", headers=headers)


def check(response: httpx.Response, example: str) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    expected = fixture("walkerst", example)
    assert_shape(body, expected)
    assert body["data"]["status"] == expected["data"]["status"]
    assert body["data"]["status"] in STATUS_WORDS
    return body


async def test_every_state_of_the_document(compat: Compat) -> None:
    job = await compat.submit("enrichment", transactions(100))
    response = await status(compat, job["id"])
    assert int(response.headers["retry-after"]) >= 1
    new = check(response, "new")["data"]
    assert new["jobId"] == JOB_ID.show(job["id"])
    assert (new["message"], new["type"]) == ("", "Enrichment")
    assert (new["totalReceivedTransactions"], new["totalProcessedTransactions"]) == (100, 0)

    await compat.drive.start(job["id"], processed=45, total=100)
    processing = check(await status(compat, job["id"]), "processing")["data"]
    assert (processing["totalReceivedTransactions"], processing["totalProcessedTransactions"]) == (
        100,
        45,
    )
    assert processing["message"] == ""

    await compat.drive.complete(job["id"], {"ok": True}, Progress(processed=100, total=100))
    response = await status(compat, job["id"])
    assert "retry-after" not in response.headers
    completed = check(response, "completed")["data"]
    assert (completed["totalProcessedTransactions"], completed["message"]) == (100, "")


async def test_failed_job_says_why(compat: Compat) -> None:
    job = await compat.submit("enrichment", transactions(100))
    await compat.drive.start(job["id"], processed=0, total=100)
    await compat.drive.fail(
        job["id"], "INVALID_FORMAT", "Processing error: Invalid transaction format"
    )
    failed = check(await status(compat, job["id"]), "failed")["data"]
    assert failed["message"] == "Processing error: Invalid transaction format"
    assert failed["totalProcessedTransactions"] == 0


async def test_extraction_type_and_cancelled_job(compat: Compat) -> None:
    job = await compat.submit("extraction", {"text": "Invoice INV-1 total 10.00 USD"})
    data = check(await status(compat, job["id"]), "new")["data"]
    assert data["type"] == "Extraction"
    assert data["totalReceivedTransactions"] == 0
    cancel = await compat.client.post(
        f"/v1/jobs/{job['id']}/cancel", json={"reason": "not needed"}, headers=compat.headers_a
    )
    assert cancel.status_code == 200, cancel.text
    data = (await status(compat, job["id"])).json()["data"]
    assert (data["status"], data["message"]) == ("Failed", "Cancelled: not needed")


async def test_javascript_polling_pattern_until_completed(compat: Compat) -> None:
    """pollJobStatus: fetch the status until Completed (return data) or Failed (throw)."""
    submitted = await compat.client.post(
        f"{BASE}/v1/jobs/enrichment", json=transactions(3), headers={"x-api-key": compat.key_a}
    )
    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["data"]["jobId"]
    seen: list[str] = []
    async with background_worker(compat.api):
        for _ in range(200):
            response = await compat.client.get(
                f"{BASE}/v1/jobs/{job_id}/status", headers={"x-api-key": compat.key_a}
            )
            result = response.json()
            seen.append(result["data"]["status"])
            if result["data"]["status"] in ("Completed", "Failed"):
                break
            await asyncio.sleep(0.02)
    assert seen[-1] == "Completed", seen
    assert set(seen) <= STATUS_WORDS
    assert result["data"]["totalProcessedTransactions"] == 3
    assert_shape(result, fixture("walkerst", "completed"))


async def test_results_of_a_completed_job(compat: Compat) -> None:
    job = await compat.submit("enrichment", transactions(2))
    shown = JOB_ID.show(job["id"])
    early = await compat.client.get(
        f"{BASE}/v1/jobs/{shown}/results", headers={"x-api-key": compat.key_a}
    )
    assert early.status_code == 409
    assert early.json()["data"] is None and "New" in early.json()["message"]
    await compat.api.run_worker()
    response = await compat.client.get(
        f"{BASE}/v1/jobs/{shown}/results", headers={"x-api-key": compat.key_a}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] is None and body["data"]["jobId"] == shown
    assert len(body["data"]["result"]["transactions"]) == 2
    assert body["data"]["result"] == (await compat.canonical(job["id"]))["result"]


async def test_errors_keep_the_envelope(compat: Compat) -> None:
    job = await compat.submit("enrichment", transactions(1))
    mine = f"/v1/jobs/{JOB_ID.show(job['id'])}/status"
    key_a, key_b = {"x-api-key": compat.key_a}, {"x-api-key": compat.key_b}
    cases = [
        (mine, {}, 401),
        (mine, {"x-api-key": "jlk_not_a_real_key"}, 401),
        ("/v1/jobs/not-a-uuid/status", key_a, 400),
        ("/v1/jobs/00000000-0000-0000-0000-000000000000/status", key_a, 404),
        (mine, key_b, 404),  # another tenant's job: as if missing
        ("/v1/nothing-here", key_a, 404),
    ]
    for path, headers, status_code in cases:
        response = await compat.client.get(BASE + path, headers=headers)
        assert response.status_code == status_code, (path, response.text)
        body = response.json()
        assert set(body) == {"data", "message"}
        assert body["data"] is None and isinstance(body["message"], str) and body["message"]
        assert "job_" not in body["message"]  # ids in the profile's format only


async def test_submit_refuses_invalid_input_in_the_envelope(compat: Compat) -> None:
    response = await compat.client.post(
        f"{BASE}/v1/jobs/enrichment", json={"transactions": []}, headers={"x-api-key": compat.key_a}
    )
    assert response.status_code == 422
    assert response.json()["data"] is None


async def test_same_job_through_the_canonical_api(compat: Compat) -> None:
    job = await compat.submit("enrichment", transactions(10))
    await compat.drive.start(job["id"], processed=4, total=10)
    data = (await status(compat, job["id"])).json()["data"]
    canonical = await compat.canonical(job["id"])
    assert JOB_ID.read(data["jobId"]) == canonical["id"]
    assert (canonical["status"], data["status"]) == ("running", "Processing")
    assert data["totalReceivedTransactions"] == canonical["progress"]["total"]
    assert data["totalProcessedTransactions"] == canonical["progress"]["processed"]


async def test_served_at_the_root_in_process(storage: Storage) -> None:
    """--profile walkerst: the document's own paths, with the canonical API still beside them."""
    async with serve_compat(storage, CompatConfig((), root="walkerst")) as compat:
        job = await compat.submit("enrichment", transactions(5))
        shown = JOB_ID.show(job["id"])
        response = await compat.client.get(
            f"/v1/jobs/{shown}/status", headers={"x-api-key": compat.key_a}
        )
        check(response, "new")
        assert (await compat.canonical(job["id"]))["status"] == "queued"
        mounted = await compat.client.get(f"{BASE}/v1/jobs/{shown}/status")
        assert mounted.status_code == 404  # only what JOBLANE_COMPAT enables is under /compat


# -- a real `joblane serve --profile walkerst` ----------------------------------------------------
@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    with real_server(tmp_path, "walkerst") as (url, key):
        yield url, key


@pytest.mark.acceptance
def test_document_requests_against_a_real_server(served: tuple[str, str]) -> None:
    url, key = served
    headers = {"x-api-key": key}
    submitted = httpx.post(f"{url}/v1/jobs/enrichment", json=transactions(20), headers=headers)
    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["data"]["jobId"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the JavaScript polling loop, sped up
        result = httpx.get(f"{url}/v1/jobs/{job_id}/status", headers=headers).json()
        if result["data"]["status"] in ("Completed", "Failed"):
            break
        time.sleep(0.05)
    assert_shape(result, fixture("walkerst", "completed"))
    assert result["data"]["status"] == "Completed"
    assert result["data"]["totalProcessedTransactions"] == 20
    canonical = httpx.get(f"{url}/v1/jobs/{JOB_ID.read(job_id)}", headers=headers).json()
    assert canonical["status"] == "completed"
    assert httpx.get(f"{url}/v1/jobs/{job_id}/status").status_code == 401
