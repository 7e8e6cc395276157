"""Artifacts with real processes (an API process and a worker process sharing a directory by
`JOBLANE_ARTIFACTS_URL`), on every backend: a 20 MB result streamed back with its sha256, by
range, and through a signed link without a key; a worker killed (-9) in the middle of writing
a file leaves nothing behind once its job is retried and deleted."""

from __future__ import annotations

import hashlib
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from acceptance.procs import Processes, wait_until

pytestmark = pytest.mark.acceptance
SIZE = 20_000_000


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def finished(client: httpx.Client, job_id: str) -> dict[str, Any]:
    terminal = ("completed", "failed", "cancelled")
    wait_until(lambda: client.get(f"/v1/jobs/{job_id}").json()["status"] in terminal, 60)
    job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}").json()
    return job


def streamed(
    client: httpx.Client, url: str, **headers: str
) -> tuple[int, dict[str, str], str, int]:
    """Status, headers, sha256 and size of a download, read a chunk at a time."""
    digest, size = hashlib.sha256(), 0
    with client.stream("GET", url, headers=headers) as response:
        for chunk in response.iter_bytes():
            digest.update(chunk)
            size += len(chunk)
        return response.status_code, dict(response.headers), digest.hexdigest(), size


def test_a_large_result_streams_back_whole_by_range_and_by_link(
    procs: Processes, api_key: str, tmp_path: Path
) -> None:
    store = tmp_path / "shared-artifacts"
    procs.env_overrides["JOBLANE_ARTIFACTS_URL"] = str(store)
    _, url = procs.start_http("api", "artifact_apps:app", log_name="api")
    procs.start("worker", "artifact_apps:app", log_name="worker")
    with httpx.Client(base_url=url, headers={"X-API-Key": api_key}, timeout=30) as client:
        submitted = client.post("/v1/jobs", json={"type": "big", "input": {"size": SIZE}})
        assert submitted.status_code == 202, submitted.text
        job = finished(client, submitted.json()["id"])
        assert job["status"] == "completed", job
        ref = job["result"]["artifact"]
        assert ref["size"] > SIZE and len(job["result"]["preview"]) == 1024

        status, headers, sha, size = streamed(client, f"/v1/jobs/{job['id']}/result")
        assert (status, sha, size) == (200, ref["sha256"], ref["size"])
        assert headers["content-length"] == str(ref["size"])
        assert headers["x-content-sha256"] == ref["sha256"]

        tail = client.get(f"/v1/jobs/{job['id']}/result", headers={"Range": "bytes=-14"})
        assert tail.status_code == 206 and tail.content == b'","attempt":1}'
        last = ref["size"] - 1
        assert tail.headers["content-range"] == f"bytes {last - 13}-{last}/{ref['size']}"

        with httpx.Client(base_url=url, timeout=30) as anonymous:  # no key at all
            status, _, sha, size = streamed(anonymous, ref["url"])
            refused = anonymous.get(ref["url"].replace("signature=", "signature=x"))
        assert (status, sha, size) == (200, ref["sha256"], ref["size"])
        assert refused.status_code == 403

        (on_disk,) = files_under(store)
        assert hashlib.sha256(on_disk.read_bytes()).hexdigest() == ref["sha256"]
        assert client.delete(f"/v1/jobs/{job['id']}").status_code == 204
        wait_until(lambda: files_under(store) == [], timeout=20)  # the worker's leader sweeps


def test_a_worker_killed_while_writing_leaves_no_file_behind(
    procs: Processes, api_key: str, tmp_path: Path
) -> None:
    store, markers = tmp_path / "shared-artifacts", tmp_path / "markers"
    markers.mkdir()
    procs.env_overrides["JOBLANE_ARTIFACTS_URL"] = str(store)
    _, url = procs.start_http("api", "artifact_apps:app", log_name="api")
    first = procs.start("worker", "artifact_apps:app", log_name="worker-1")
    with httpx.Client(base_url=url, headers={"X-API-Key": api_key}, timeout=30) as client:
        body = {"type": "slow_file", "input": {"marker_dir": str(markers)}}
        job_id = client.post("/v1/jobs", json=body).json()["id"]
        wait_until(lambda: (markers / f"writing-{job_id}-1").exists(), timeout=20)
        assert files_under(store) != []  # a temporary file, half written

        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        procs.start("worker", "artifact_apps:app", log_name="worker-2")
        job = finished(client, job_id)

        assert job["status"] == "completed" and job["attempt"] == 2, job
        (listed,) = client.get(f"/v1/jobs/{job_id}/artifacts").json()["data"]
        assert (listed["attempt"], listed["sha256"]) == (2, job["result"]["sha256"])
        wait_until(lambda: len(files_under(store)) == 1, timeout=20)  # attempt 1's went
        download = client.get(f"/v1/jobs/{job_id}/artifacts/slow.bin")
        assert hashlib.sha256(download.content).hexdigest() == listed["sha256"]

        assert client.delete(f"/v1/jobs/{job_id}").status_code == 204
        wait_until(lambda: files_under(store) == [], timeout=20)
