"""kill -9 of a worker in the middle of a job: the job is rescued and completes, once."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest

from acceptance.procs import Processes, wait_until

pytestmark = pytest.mark.acceptance


def test_killed_worker_job_is_rescued_and_completes_once(
    procs: Processes, api_key: str, tmp_path: Path
) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    _, url = procs.start_http("api", "apps:app", log_name="api")
    first = procs.start("worker", "apps:app", log_name="worker-1")
    with httpx.Client(base_url=url, headers={"X-API-Key": api_key}, timeout=10) as client:
        submitted = client.post(
            "/v1/jobs", json={"type": "nap", "input": {"seconds": 2.0, "marker_dir": str(markers)}}
        )
        assert submitted.status_code == 202
        job_id = submitted.json()["id"]
        wait_until(lambda: any(markers.glob(f"start-{job_id}-1-*")), timeout=15)
        assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "running"

        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        procs.start("worker", "apps:app", log_name="worker-2")

        wait_until(lambda: client.get(f"/v1/jobs/{job_id}").json()["status"] != "running", 20)
        wait_until(lambda: client.get(f"/v1/jobs/{job_id}").json()["status"] == "completed", 20)
        job = client.get(f"/v1/jobs/{job_id}").json()
        assert job["attempt"] == 2
        assert job["result"] == {"slept": 2.0}
        starts = sorted(p.name for p in markers.glob(f"start-{job_id}-*"))
        assert [name.split("-")[2] for name in starts] == ["1", "2"]
        assert len(list(markers.glob(f"done-{job_id}"))) == 1
        assert "rescued job" in procs.log("worker-2")
