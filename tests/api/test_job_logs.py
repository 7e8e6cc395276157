"""`GET /v1/jobs/{id}/logs`: a handler's own lines (async and sync handlers, ctx.logger and
plain loggers), kept per attempt, bounded, tenant-scoped; and `/metrics` in one process."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

import observe_apps
from api.conftest import FAST_WORKER, Api, Headers, serve
from joblane.core.joblog import MAX_LINES
from joblane.storage.base import Storage
from joblane.worker.runtime import Worker


@pytest.fixture
async def logs_api(storage: Storage, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Api]:
    caplog.set_level(logging.INFO)  # what the CLI's logging lets through (observe/logs.py)
    async with serve(storage, observe_apps.app) as built:
        yield built


async def run_all(api: Api) -> None:
    await Worker(api.storage, api.registry, FAST_WORKER).run_until_empty()


async def test_an_async_handlers_lines_are_kept_with_its_job(logs_api: Api) -> None:
    auth = await logs_api.headers_for("tenant-a")
    job = await logs_api.submit(auth, "chatty", input={"lines": 3})
    await run_all(logs_api)

    response = await logs_api.client.get(f"/v1/jobs/{job['id']}/logs", headers=auth)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["object"], body["job_id"], body["attempt"], body["dropped"]) == (
        "list", job["id"], 1, 0
    )  # fmt: skip
    lines = body["data"]
    assert [line["message"] for line in lines] == [
        "async line 0", "async line 1", "async line 2", "plain logger line"
    ]  # fmt: skip
    assert [line["seq"] for line in lines] == [1, 2, 3, 4]
    assert lines[0]["level"] == "INFO" and lines[3]["level"] == "WARNING"
    assert lines[3]["logger"] == "observe_apps"
    assert lines[0]["at"].endswith("Z")


async def test_a_sync_handlers_lines_are_kept_too(logs_api: Api) -> None:
    auth = await logs_api.headers_for("tenant-a")
    job = await logs_api.submit(auth, "chatty_sync", input={"lines": 2})
    await run_all(logs_api)

    body = (await logs_api.client.get(f"/v1/jobs/{job['id']}/logs", headers=auth)).json()

    assert [line["message"] for line in body["data"]] == ["sync line 0", "sync line 1"]


async def test_a_failed_attempt_keeps_its_lines(logs_api: Api) -> None:
    auth = await logs_api.headers_for("tenant-a")
    job = await logs_api.submit(auth, "chatty", input={"lines": 1, "fail": True})
    await run_all(logs_api)

    body = (await logs_api.client.get(f"/v1/jobs/{job['id']}/logs", headers=auth)).json()

    assert [line["message"] for line in body["data"]] == ["async line 0", "plain logger line"]


async def test_only_the_last_lines_are_kept(logs_api: Api) -> None:
    auth = await logs_api.headers_for("tenant-a")
    job = await logs_api.submit(auth, "chatty", input={"lines": MAX_LINES + 50})
    await run_all(logs_api)

    body = (await logs_api.client.get(f"/v1/jobs/{job['id']}/logs", headers=auth)).json()

    assert len(body["data"]) == MAX_LINES
    assert body["dropped"] == 51  # 251 lines in all
    assert body["data"][-1]["message"] == "plain logger line"


async def test_lines_are_per_attempt_and_tenant_scoped(logs_api: Api, auth_b: Headers) -> None:
    auth = await logs_api.headers_for("tenant-a")
    job = await logs_api.submit(auth, "chatty", input={"lines": 1})
    queued = await logs_api.submit(auth, "ok")
    await run_all(logs_api)
    path = f"/v1/jobs/{job['id']}/logs"

    other = await logs_api.client.get(path, headers=auth_b)
    later = await logs_api.client.get(f"{path}?attempt=2", headers=auth)
    bad = await logs_api.client.get(f"{path}?attempt=zero", headers=auth)
    missing = await logs_api.client.get(
        "/v1/jobs/job_01J00000000000000000000000/logs", headers=auth
    )
    quiet = await logs_api.client.get(f"/v1/jobs/{queued['id']}/logs", headers=auth)

    assert other.status_code == 404 and other.json()["code"] == "JOB_NOT_FOUND"
    assert later.status_code == 200 and later.json()["data"] == []
    assert bad.status_code == 422
    assert missing.status_code in (400, 404)
    assert quiet.json()["data"] == []


async def test_deleting_the_job_deletes_its_lines(logs_api: Api) -> None:
    auth = await logs_api.headers_for("tenant-a")
    job = await logs_api.submit(auth, "chatty", input={"lines": 1})
    await run_all(logs_api)

    assert (await logs_api.client.delete(f"/v1/jobs/{job['id']}", headers=auth)).status_code < 300

    assert await logs_api.storage.job_logs(job["id"], None, 10) == []
