"""kill -9 of the server right after a burst of 202s: every acknowledged job is still there."""

from __future__ import annotations

import asyncio
import signal

import httpx
import pytest

from acceptance.procs import Processes, wait_until

pytestmark = pytest.mark.acceptance

BURST = 400
PARALLEL = 32


async def _burst(url: str, api_key: str) -> list[str]:
    acknowledged: list[str] = []
    limits = httpx.Limits(max_connections=PARALLEL)
    async with httpx.AsyncClient(
        base_url=url, headers={"X-API-Key": api_key}, limits=limits, timeout=30
    ) as client:
        gate = asyncio.Semaphore(PARALLEL)

        async def submit(n: int) -> None:
            async with gate:
                body = {"type": "echo", "input": {"value": n}, "metadata": {"n": str(n)}}
                response = await client.post("/v1/jobs", json=body)
                if response.status_code == 202:
                    acknowledged.append(response.json()["id"])

        await asyncio.gather(*(submit(n) for n in range(BURST)))
    return acknowledged


def test_every_acknowledged_job_survives_kill_9(procs: Processes, api_key: str) -> None:
    server, url = procs.start_http("serve", "apps:app", log_name="serve-1")
    acknowledged = asyncio.run(_burst(url, api_key))
    server.send_signal(signal.SIGKILL)
    server.wait(timeout=10)
    assert len(acknowledged) == BURST

    _, url = procs.start_http("serve", "apps:app", log_name="serve-2")
    with httpx.Client(base_url=url, headers={"X-API-Key": api_key}, timeout=10) as client:
        for job_id in acknowledged:
            assert client.get(f"/v1/jobs/{job_id}").status_code == 200

        def all_completed() -> bool:
            listing = client.get("/v1/jobs", params={"status": "completed", "limit": 1000}).json()
            return len(listing["data"]) == BURST

        wait_until(all_completed, timeout=30, interval=0.2)
        for job_id in acknowledged[:20]:
            job = client.get(f"/v1/jobs/{job_id}").json()
            assert job["status"] == "completed"
            assert job["result"]["value"] == int(job["metadata"]["n"])
