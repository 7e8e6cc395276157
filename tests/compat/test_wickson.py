"""`wickson` (seed 001): the document's curl and Python requests replayed against the profile in
every batch state it lists (created, running, paused, completed, failed, cancelled), the same
batch through the canonical API, the root mount in-process, and one real `joblane serve
--profile wickson` (queries and errors: test_wickson_errors.py)."""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from compat.conftest import Compat, fixture, real_server, serve_compat
from compat.shapes import assert_shape
from compat.wickson_helpers import (
    BASE,
    FILES,
    FORMAT_DETAILS,
    NULLABLE,
    create,
    curl,
    example,
    items,
)
from joblane.compat.mount import CompatConfig
from joblane.compat.profiles.wickson_view import BATCH_ID, JOB_ID
from joblane.core.job import Progress
from joblane.storage.base import Storage


async def python_example(compat: Compat, batch_id: str) -> list[str]:
    """The document's Python example, line by line (requests sends True as "True")."""
    response = await compat.client.get(
        f"{BASE}/v1/batches/{batch_id}",
        headers={"X-Api-Key": compat.key_a},
        params={"include_job_details": "True"},
    )
    out: list[str] = []
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    out.append(f"Batch: {data['batch_name']} ({data['batch_id']})")
    out.append(f"Status: {data['status'].upper()}")
    progress = data["progress"]
    out.append(
        f"Progress: {progress['percentage']:.1f}% ({progress['completed']} of "
        f"{progress['total']} complete)"
    )
    if data["status"] != "completed" and "estimated_completion" in data["timing"]:
        text = data["timing"]["estimated_completion"].replace("Z", "+00:00")
        est_time = datetime.datetime.fromisoformat(text)
        now = datetime.datetime.now(datetime.UTC)
        out.append(f"Estimated completion: {round((est_time - now).total_seconds() / 60)} min")
    if progress["failed"] > 0 and "error_summary" in data:
        out.append(f"Errors: {progress['failed']} files failed")
        for error in data["error_summary"]:
            out.append(f" - {error['error_type']} ({error['count']} files): {error['resolution']}")
    return out


async def test_running_batch_as_the_document_shows_it(compat: Compat) -> None:
    batch = await create(compat, max_concurrent=5)
    ids = await items(compat, batch["batch_id"])
    drive = compat.drive
    await drive.start(ids[FILES[0]])
    await drive.complete(ids[FILES[0]], {"ok": True})
    for path in FILES[1:3]:
        await drive.start(ids[path], processed=47, total=200)
        resolution = "Ensure file is in a supported format"
        await drive.fail(
            ids[path],
            "FORMAT_ERROR",
            "Unsupported file format",
            FORMAT_DETAILS,
            resolution=resolution,
            progress=Progress(47, 200),
        )
    await drive.start(ids[FILES[3]])
    await drive.fail(
        ids[FILES[3]],
        "CORRUPTED_FILE",
        "Cannot read the file",
        {"format": ".pdf", "supported_formats": [".pdf"]},
        resolution="Verify file integrity and try uploading again",
    )
    await drive.start(ids[FILES[4]], processed=1, total=4)

    response = await curl(compat, batch["batch_id"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert_shape(body, example("running", eta=True), nullable=NULLABLE)
    data = body["data"]
    assert data["status"] == "running"
    assert data["progress"] == {
        "percentage": 66.67,
        "completed": 1,
        "failed": 3,
        "pending": 1,
        "processing": 1,
        "total": 6,
    }
    by_path = {detail["file_path"]: detail for detail in data["job_details"]}
    assert by_path[FILES[0]]["status"] == "completed" and by_path[FILES[0]]["progress"] == 100.0
    failed = by_path[FILES[1]]
    assert (failed["status"], failed["progress"]) == ("failed", 23.5)
    assert failed["error"] == {
        "message": "Unsupported file format",
        "code": "format_error",
        "details": FORMAT_DETAILS,
    }
    assert failed["job_id"] == JOB_ID.show(ids[FILES[1]])
    assert by_path[FILES[4]]["status"] == "processing"
    assert by_path[FILES[5]]["status"] == "pending"
    summary = {group["error_type"]: group for group in data["error_summary"]}
    assert summary["format_error"]["count"] == 2
    assert sorted(summary["format_error"]["affected_files"]) == sorted(FILES[1:3])
    assert summary["corrupted_file"]["affected_files"] == [FILES[3]]
    assert (
        summary["corrupted_file"]["resolution"] == "Verify file integrity and try uploading again"
    )
    assert data["batch_configuration"] == {
        "max_concurrent": 5,
        "priority": "normal",
        "timeout": 3600,
        "notification_enabled": False,
    }
    assert body["metadata"]["request_id"] == response.headers["x-request-id"]
    assert body["metadata"]["api_version"] == "1.0.0"
    assert 0 <= body["metadata"]["cache_remaining"] <= body["metadata"]["cache_ttl"]

    quiet = await curl(compat, batch["batch_id"], "?include_job_details=true&include_errors=false")
    assert "error_summary" not in quiet.json()["data"]
    assert not any("error" in detail for detail in quiet.json()["data"]["job_details"])

    printed = await python_example(compat, batch["batch_id"])
    assert printed[1] == "Status: RUNNING"
    assert printed[2] == "Progress: 66.7% (1 of 6 complete)"
    assert printed[3].startswith("Estimated completion: ")
    assert " - format_error (2 files): Ensure file is in a supported format" in printed


async def test_every_status_value(compat: Compat) -> None:
    created = await create(compat, files=FILES[:2])
    response = await curl(compat, created["batch_id"])
    assert_shape(response.json(), example("created", eta=False), nullable=NULLABLE)
    assert response.json()["data"]["status"] == "created"

    paused = await compat.client.post(
        f"{BASE}/v1/batches/{created['batch_id']}/pause", headers={"X-Api-Key": compat.key_a}
    )
    assert paused.status_code == 200, paused.text
    assert (await curl(compat, created["batch_id"])).json()["data"]["status"] == "paused"
    resumed = await compat.client.post(
        f"{BASE}/v1/batches/{created['batch_id']}/resume", headers={"X-Api-Key": compat.key_a}
    )
    assert resumed.json()["data"]["status"] == "created"
    cancelled = await compat.client.post(
        f"{BASE}/v1/batches/{created['batch_id']}/cancel", headers={"X-Api-Key": compat.key_a}
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["message"] == "Batch cancelled successfully"
    assert (await curl(compat, created["batch_id"])).json()["data"]["status"] == "cancelled"

    done = await create(compat, files=FILES[:2])
    await compat.api.run_worker()
    response = await curl(compat, done["batch_id"])
    assert_shape(response.json(), example("completed", eta=False), nullable=NULLABLE)
    assert response.json()["data"]["status"] == "completed"
    assert response.json()["data"]["timing"]["completed_at"] is not None

    broken = await create(compat, files=FILES[1:3])
    for job_id in (await items(compat, broken["batch_id"])).values():
        await compat.drive.start(job_id)
        await compat.drive.fail(job_id, "FORMAT_ERROR", "Unsupported file format", FORMAT_DETAILS)
    data = (await curl(compat, broken["batch_id"])).json()["data"]
    assert data["status"] == "failed"
    assert data["error_summary"][0]["resolution"] == ""  # nobody gave one: a string all the same


async def test_same_batch_through_the_canonical_api(compat: Compat) -> None:
    batch = await create(compat, files=FILES[:3])
    ids = await items(compat, batch["batch_id"])
    await compat.drive.start(ids[FILES[0]])
    data = (await curl(compat, batch["batch_id"])).json()["data"]
    canonical = (
        await compat.client.get(
            f"/v1/batches/{BATCH_ID.read(batch['batch_id'])}", headers=compat.headers_a
        )
    ).json()
    assert canonical["id"] == BATCH_ID.read(data["batch_id"])
    assert (canonical["status"], data["status"]) == ("running", "running")
    for key in ("completed", "failed", "pending", "processing", "total"):
        assert data["progress"][key] == canonical["progress"][key]
    assert data["batch_name"] == canonical["name"]


async def test_served_at_the_root_in_process(storage: Storage) -> None:
    async with serve_compat(storage, CompatConfig((), root="wickson")) as compat:
        response = await compat.client.post(
            "/v1/batches",
            json={
                "job_type": "batch_item",
                "files": [{"file_path": "a.pdf", "input": {"index": 0}}],
            },
            headers={"X-Api-Key": compat.key_a},
        )
        assert response.status_code == 202, response.text
        shown = response.json()["data"]["batch_id"]
        got = await compat.client.get(f"/v1/batches/{shown}", headers={"X-Api-Key": compat.key_a})
        assert got.json()["data"]["status"] == "created"
        assert (await compat.client.get("/v1/jobs", headers=compat.headers_a)).status_code == 200


# -- a real `joblane serve --profile wickson` -----------------------------------------------------
@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    with real_server(tmp_path, "wickson", "apps:app") as (url, key):
        yield url, key


@pytest.mark.acceptance
def test_document_requests_against_a_real_server(served: tuple[str, str]) -> None:
    url, key = served
    inputs: list[dict[str, Any]] = [{"index": i} for i in range(3)]
    inputs[1]["fail"] = "FORMAT_ERROR"
    files = [{"file_path": path, "input": inputs[i]} for i, path in enumerate(FILES[:3])]
    created = httpx.post(
        f"{url}/v1/batches",
        json={"batch_name": "Monthly Reports Processing", "job_type": "batch_item", "files": files},
        headers={"X-Api-Key": key},
    )
    assert created.status_code == 202, created.text
    batch_id = created.json()["data"]["batch_id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = httpx.get(
            f"{url}/v1/batches/{batch_id}",
            headers={"X-Api-Key": key},
            params={"include_job_details": True},
        )
        data = response.json()["data"]
        if data["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.05)
    assert data["status"] == "completed"
    assert (data["progress"]["completed"], data["progress"]["failed"]) == (2, 1)
    assert data["error_summary"][0]["affected_files"] == [FILES[1]]
    assert data["error_summary"][0]["resolution"] == "Ensure file is in a supported format"
    invalid = httpx.get(f"{url}/v1/batches/batch@123", headers={"X-Api-Key": key})
    assert invalid.json() == fixture("wickson", "invalid_id")
