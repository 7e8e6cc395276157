"""`GET /v1/jobs/{id}/events`: Server-Sent Events until the terminal event."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from api.conftest import Api, Headers, assert_problem


def parse(stream: str) -> list[dict[str, Any]]:
    events = []
    for block in stream.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if ": " in line and line[0] != ":"
        )
        if "data" in fields:
            events.append({**fields, "data": orjson.loads(fields["data"])})
    return events


async def test_stream_sends_each_change_and_closes_after_the_terminal_event(
    api: Api, auth_a: Headers
) -> None:
    job = await api.submit(auth_a, "noop")

    async def finish_later() -> None:
        await asyncio.sleep(0.2)
        await api.run_worker()

    finisher = asyncio.create_task(finish_later())
    response = await api.client.get(f"/v1/jobs/{job['id']}/events", headers=auth_a)
    await finisher

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse(response.text)
    assert events[0]["event"] == "status"
    assert events[0]["data"]["status"] == "queued"
    assert events[-1]["event"] == "completed"
    assert events[-1]["data"]["result"] == {"ok": True}
    versions = [int(e["id"]) for e in events]
    assert versions == sorted(set(versions))
    assert versions[-1] == events[-1]["data"]["version"]


async def test_resuming_after_the_last_version_of_a_finished_job_sends_nothing(
    api: Api, auth_a: Headers
) -> None:
    job = await api.submit(auth_a, "noop")
    await api.run_worker()
    final = (await api.client.get(f"/v1/jobs/{job['id']}", headers=auth_a)).json()

    headers = {**auth_a, "Last-Event-ID": str(final["version"])}
    response = await api.client.get(f"/v1/jobs/{job['id']}/events", headers=headers)

    assert response.status_code == 200
    assert parse(response.text) == []


async def test_resuming_from_an_older_version_sends_the_current_state(
    api: Api, auth_a: Headers
) -> None:
    job = await api.submit(auth_a, "noop")
    await api.run_worker()

    headers = {**auth_a, "Last-Event-ID": "1"}
    response = await api.client.get(f"/v1/jobs/{job['id']}/events", headers=headers)

    (event,) = parse(response.text)
    assert event["event"] == "completed"
    assert int(event["id"]) > 1


async def test_another_tenants_job_has_no_stream(
    api: Api, auth_a: Headers, auth_b: Headers
) -> None:
    job = await api.submit(auth_a, "noop")

    response = await api.client.get(f"/v1/jobs/{job['id']}/events", headers=auth_b)

    assert_problem(response, 404, "JOB_NOT_FOUND")
