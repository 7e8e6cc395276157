"""Two real `joblane api` processes with `JOBLANE_REDIS_URL` set spend one budget per API key
(and answer with the 429 and the rate limit fields from real uvicorn processes)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

import redisdb
from acceptance.procs import Processes

pytestmark = pytest.mark.acceptance

TENANT = "rate-acceptance"
WRITES = {"JOBLANE_RATE_WRITE": "0.2", "JOBLANE_RATE_WRITE_BURST": "4"}  # then one per 5 s


async def test_two_api_processes_share_one_budget_through_redis(tmp_path: Path) -> None:
    async with redisdb.connected() as redis:
        procs = Processes(
            workdir=tmp_path,
            database=str(tmp_path / "joblane.db"),
            env_overrides={**WRITES, "JOBLANE_REDIS_URL": redisdb.URL},
        )
        procs.run("migrate")
        secret = procs.run("keys", "create", "--tenant", TENANT)
        key_id = procs.run("keys", "list", "--tenant", TENANT).split()[0]
        try:
            urls = [procs.start_http("api", "apps:app", log_name=f"api-{n}")[1] for n in (1, 2)]
            responses = []
            async with httpx.AsyncClient(headers={"X-API-Key": secret}, timeout=10) as client:
                for n in range(6):  # alternating between the two processes
                    body = {"type": "noop", "input": {}}
                    responses.append(await client.post(f"{urls[n % 2]}/v1/jobs", json=body))
                read = await client.get(f"{urls[1]}/v1/jobs/{responses[0].json()['id']}")
        finally:
            procs.stop_all()
            await redisdb.delete_matching(redis, f"joblane:rl:*:{key_id}")

    assert [r.status_code for r in responses] == [202] * 4 + [429] * 2
    remaining = [r.headers["ratelimit"] for r in responses[:4]]
    assert [value.split(";")[1] for value in remaining] == ["r=3", "r=2", "r=1", "r=0"]
    for refused in responses[4:]:
        assert refused.json()["code"] == "RATE_LIMITED"
        assert refused.headers["retry-after"] in {"4", "5"}
        assert refused.headers["ratelimit-policy"] == '"write";q=4;w=20'
    assert read.status_code == 200  # reads have their own budget
    assert read.headers["ratelimit"].startswith('"read";r=')
