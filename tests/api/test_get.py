"""GET /v1/jobs/{id}: ETags and 304, polling hints, sparse fields and long-polling."""

from __future__ import annotations

import asyncio
import time

from api.conftest import Api, Headers


async def test_get_returns_the_job_with_its_version_as_etag(api: Api, auth_a: Headers) -> None:
    submitted = await api.submit(auth_a, "nap", metadata={"k": "v"})

    response = await api.client.get(f"/v1/jobs/{submitted['id']}", headers=auth_a)

    assert response.status_code == 200
    job = response.json()
    assert response.headers["etag"] == f'"{job["version"]}"' == '"1"'
    assert {key: job[key] for key in ("id", "status", "metadata")} == {
        "id": submitted["id"],
        "status": "queued",
        "metadata": {"k": "v"},
    }
    assert "input" not in job


async def test_if_none_match_with_the_current_etag_is_304_without_body(
    api: Api, auth_a: Headers
) -> None:
    job = await api.submit(auth_a, "nap")
    url = f"/v1/jobs/{job['id']}"

    fresh = await api.client.get(url, headers={**auth_a, "If-None-Match": '"1"'})
    weak = await api.client.get(url, headers={**auth_a, "If-None-Match": 'W/"1"'})
    stale = await api.client.get(url, headers={**auth_a, "If-None-Match": '"0"'})

    assert fresh.status_code == weak.status_code == 304
    assert fresh.content == b""
    assert fresh.headers["etag"] == '"1"'
    assert "retry-after" in fresh.headers
    assert stale.status_code == 200
    assert stale.json()["id"] == job["id"]


async def test_etag_follows_the_version(api: Api, auth_a: Headers) -> None:
    job = await api.submit(auth_a, "nap")
    await api.claim("nap")

    response = await api.client.get(
        f"/v1/jobs/{job['id']}", headers={**auth_a, "If-None-Match": '"1"'}
    )

    assert response.status_code == 200
    assert response.json()["status"] == "running"
    assert response.json()["version"] == 2
    assert response.headers["etag"] == '"2"'


async def test_no_retry_after_once_the_job_is_terminal(api: Api, auth_a: Headers) -> None:
    job = await api.submit(auth_a, "noop")
    await api.run_worker()

    response = await api.client.get(f"/v1/jobs/{job['id']}", headers=auth_a)

    assert response.json()["status"] == "completed"
    assert "retry-after" not in response.headers
    assert response.json()["retry_after"] is None


async def test_retry_after_header_on_queued_and_running_jobs(api: Api, auth_a: Headers) -> None:
    queued = await api.submit(auth_a, "noop")
    running = await api.submit(auth_a, "nap")
    await api.claim("nap")

    for job_id, status in ((queued["id"], "queued"), (running["id"], "running")):
        response = await api.client.get(f"/v1/jobs/{job_id}", headers=auth_a)
        assert response.json()["status"] == status
        assert int(response.headers["retry-after"]) >= 1
        assert response.json()["retry_after"] == int(response.headers["retry-after"])


async def test_fields_returns_only_those_fields_and_the_id(api: Api, auth_a: Headers) -> None:
    job = await api.submit(auth_a, "nap")

    response = await api.client.get(
        f"/v1/jobs/{job['id']}", params={"fields": "status,progress"}, headers=auth_a
    )

    assert response.status_code == 200
    assert response.json() == {
        "id": job["id"],
        "status": "queued",
        "progress": {
            "percentage": None,
            "total": None,
            "processed": 0,
            "failed": 0,
            "message": None,
        },
    }


async def test_include_input_adds_the_input(api: Api, auth_a: Headers) -> None:
    job = await api.submit(auth_a, "echo", input={"value": 5})

    response = await api.client.get(
        f"/v1/jobs/{job['id']}", params={"include": "input"}, headers=auth_a
    )

    assert response.json()["input"] == {"value": 5}


async def test_long_poll_returns_early_when_the_job_changes(api: Api, auth_a: Headers) -> None:
    job = await api.submit(auth_a, "nap")
    headers = {**auth_a, "Prefer": "wait=1", "If-None-Match": '"1"'}

    async def cancel_soon() -> None:
        await asyncio.sleep(0.2)
        cancelled = await api.client.post(f"/v1/jobs/{job['id']}/cancel", headers=auth_a)
        assert cancelled.status_code == 200

    started = time.monotonic()
    response, _ = await asyncio.gather(
        api.client.get(f"/v1/jobs/{job['id']}", headers=headers), cancel_soon()
    )
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.headers["etag"] == '"2"'
    assert response.headers["preference-applied"] == "wait=1"
    assert 0.15 < elapsed < 0.8


async def test_long_poll_sees_changes_written_by_a_worker_elsewhere(
    api: Api, auth_a: Headers
) -> None:
    """No in-process notification: the change feed polls storage."""
    job = await api.submit(auth_a, "nap")

    async def claim_soon() -> None:
        await asyncio.sleep(0.2)
        await api.storage.jobs_claim("wrk_elsewhere", ["nap"], 1, 60.0)

    started = time.monotonic()
    response, _ = await asyncio.gather(
        api.client.get(f"/v1/jobs/{job['id']}", headers={**auth_a, "Prefer": "wait=3"}),
        claim_soon(),
    )

    assert response.json()["status"] == "running"
    assert time.monotonic() - started < 1.5


async def test_long_poll_times_out_after_the_wait(api: Api, auth_a: Headers) -> None:
    job = await api.submit(auth_a, "nap")
    url = f"/v1/jobs/{job['id']}"

    started = time.monotonic()
    plain = await api.client.get(url, headers={**auth_a, "Prefer": "wait=1"})
    elapsed = time.monotonic() - started
    conditional = await api.client.get(
        url, headers={**auth_a, "Prefer": "wait=0.5", "If-None-Match": '"1"'}
    )

    assert 0.9 <= elapsed < 1.8
    assert plain.status_code == 200
    assert plain.json()["version"] == 1
    assert plain.headers["preference-applied"] == "wait=1"
    assert conditional.status_code == 304
    assert conditional.content == b""
    assert conditional.headers["preference-applied"] == "wait=0.5"


async def test_long_poll_returns_at_once_when_the_client_is_behind(
    api: Api, auth_a: Headers
) -> None:
    job = await api.submit(auth_a, "nap")
    await api.claim("nap")

    started = time.monotonic()
    response = await api.client.get(
        f"/v1/jobs/{job['id']}", headers={**auth_a, "Prefer": "wait=3", "If-None-Match": '"1"'}
    )

    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert time.monotonic() - started < 0.5


async def test_wait_is_capped_by_max_wait(api: Api, auth_a: Headers) -> None:
    job = await api.submit(auth_a, "nap")

    async def cancel_soon() -> None:
        await asyncio.sleep(0.1)
        await api.client.post(f"/v1/jobs/{job['id']}/cancel", headers=auth_a)

    response, _ = await asyncio.gather(
        api.client.get(f"/v1/jobs/{job['id']}", headers={**auth_a, "Prefer": "wait=3600"}),
        cancel_soon(),
    )

    assert response.headers["preference-applied"] == "wait=5"


async def test_no_preference_applied_without_prefer(api: Api, auth_a: Headers) -> None:
    job = await api.submit(auth_a, "nap")

    response = await api.client.get(f"/v1/jobs/{job['id']}", headers=auth_a)

    assert "preference-applied" not in response.headers
