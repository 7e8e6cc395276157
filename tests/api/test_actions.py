"""Cancel, retry, delete and result: each legal transition and the 409 for every illegal one."""

from __future__ import annotations

import pytest

from api.conftest import JSON, Api, Headers, assert_problem


async def _job_in(api: Api, headers: Headers, status: str) -> JSON:
    """A job of tenant `headers` in `status` (completed/failed through a real worker run)."""
    if status == "queued":
        return await api.submit(headers, "noop")
    if status == "running":
        job = await api.submit(headers, "nap", input={"seconds": 30})
        assert [claimed.id for claimed in await api.claim("nap")] == [job["id"]]
        return job
    if status == "cancelled":
        job = await api.submit(headers, "noop")
        await api.client.post(f"/v1/jobs/{job['id']}/cancel", headers=headers)
        return job
    job = await api.submit(headers, "echo" if status == "completed" else "fail")
    assert await api.run_worker() == 1
    return job


async def _status(api: Api, headers: Headers, job_id: str) -> str:
    response = await api.client.get(f"/v1/jobs/{job_id}", headers=headers)
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status


# -- cancel ----------------------------------------------------------------------------------
async def test_cancel_a_queued_job_cancels_it_at_once(api: Api, auth_a: Headers) -> None:
    job = await api.submit(auth_a, "noop")

    response = await api.client.post(
        f"/v1/jobs/{job['id']}/cancel", json={"reason": "customer asked"}, headers=auth_a
    )

    assert response.status_code == 200
    cancelled = response.json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancel_reason"] == "customer asked"
    assert cancelled["cancelled_at"] is not None
    assert cancelled["version"] == job["version"] + 1
    assert response.headers["etag"] == f'"{cancelled["version"]}"'
    assert "retry-after" not in response.headers
    assert await api.run_worker() == 0
    assert await _status(api, auth_a, job["id"]) == "cancelled"


async def test_cancel_without_a_body(api: Api, auth_a: Headers) -> None:
    job = await api.submit(auth_a, "noop")

    response = await api.client.post(f"/v1/jobs/{job['id']}/cancel", headers=auth_a)

    assert response.status_code == 200
    assert response.json()["cancel_reason"] is None


async def test_cancel_a_running_job_requests_cooperative_cancel(api: Api, auth_a: Headers) -> None:
    job = await _job_in(api, auth_a, "running")

    response = await api.client.post(
        f"/v1/jobs/{job['id']}/cancel", json={"reason": "too slow"}, headers=auth_a
    )

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "running"
    assert body["cancel_requested"] is True
    assert body["cancel_reason"] == "too slow"
    assert body["version"] == 3
    assert "retry-after" in response.headers


@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
async def test_cancel_a_terminal_job_is_409(api: Api, auth_a: Headers, status: str) -> None:
    job = await _job_in(api, auth_a, status)

    response = await api.client.post(f"/v1/jobs/{job['id']}/cancel", headers=auth_a)

    body = assert_problem(response, 409, "CONFLICT")
    assert body["details"]["status"] == status
    assert await _status(api, auth_a, job["id"]) == status


@pytest.mark.parametrize(
    "payload", [{"reason": "x", "force": True}, {"reason": 5}, {"reason": "x" * 501}]
)
async def test_cancel_with_an_invalid_body_is_422(api: Api, auth_a: Headers, payload: JSON) -> None:
    job = await api.submit(auth_a, "noop")

    response = await api.client.post(f"/v1/jobs/{job['id']}/cancel", json=payload, headers=auth_a)

    body = assert_problem(response, 422, "VALIDATION_ERROR")
    assert body["errors"][0]["loc"][0] == "body"
    assert await _status(api, auth_a, job["id"]) == "queued"


# -- retry -----------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["failed", "cancelled"])
async def test_retry_requeues_as_a_new_attempt(api: Api, auth_a: Headers, status: str) -> None:
    job = await _job_in(api, auth_a, status)
    before = (await api.client.get(f"/v1/jobs/{job['id']}", headers=auth_a)).json()

    response = await api.client.post(f"/v1/jobs/{job['id']}/retry", headers=auth_a)

    assert response.status_code == 202
    retried = response.json()
    assert retried["id"] == job["id"]
    assert retried["status"] == "queued"
    assert retried["attempt"] == before["attempt"] + 1
    assert retried["version"] > before["version"]
    assert retried["scheduled_at"] is not None
    assert response.headers["location"] == f"/v1/jobs/{job['id']}"
    assert "retry-after" in response.headers


async def test_a_retried_job_runs_again(api: Api, auth_a: Headers) -> None:
    job = await _job_in(api, auth_a, "failed")
    await api.client.post(f"/v1/jobs/{job['id']}/retry", headers=auth_a)

    assert await api.run_worker() == 1

    again = (await api.client.get(f"/v1/jobs/{job['id']}", headers=auth_a)).json()
    assert (again["status"], again["attempt"]) == ("failed", 2)
    assert again["error"]["code"] == "BOOM"


@pytest.mark.parametrize("status", ["queued", "running", "completed"])
async def test_retry_of_a_job_that_did_not_fail_is_409(
    api: Api, auth_a: Headers, status: str
) -> None:
    job = await _job_in(api, auth_a, status)

    response = await api.client.post(f"/v1/jobs/{job['id']}/retry", headers=auth_a)

    assert_problem(response, 409, "CONFLICT")
    assert await _status(api, auth_a, job["id"]) == status


# -- delete ----------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
async def test_delete_a_terminal_job(api: Api, auth_a: Headers, status: str) -> None:
    job = await _job_in(api, auth_a, status)

    response = await api.client.delete(f"/v1/jobs/{job['id']}", headers=auth_a)

    assert response.status_code == 204
    assert response.content == b""
    gone = await api.client.get(f"/v1/jobs/{job['id']}", headers=auth_a)
    assert_problem(gone, 404, "JOB_NOT_FOUND", detail=job["id"])
    result = await api.client.get(f"/v1/jobs/{job['id']}/result", headers=auth_a)
    assert_problem(result, 404, "JOB_NOT_FOUND")
    again = await api.client.delete(f"/v1/jobs/{job['id']}", headers=auth_a)
    assert_problem(again, 404, "JOB_NOT_FOUND")
    listed = await api.client.get("/v1/jobs", headers=auth_a)
    assert listed.json()["data"] == []


@pytest.mark.parametrize("status", ["queued", "running"])
async def test_delete_an_unfinished_job_is_409(api: Api, auth_a: Headers, status: str) -> None:
    job = await _job_in(api, auth_a, status)

    response = await api.client.delete(f"/v1/jobs/{job['id']}", headers=auth_a)

    assert_problem(response, 409, "CONFLICT")
    assert await _status(api, auth_a, job["id"]) == status


# -- result ----------------------------------------------------------------------------------
async def test_result_of_a_completed_job_is_its_output(api: Api, auth_a: Headers) -> None:
    job = await api.submit(auth_a, "echo", input={"value": 42})
    await api.run_worker()

    response = await api.client.get(f"/v1/jobs/{job['id']}/result", headers=auth_a)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"value": 42}
    full = (await api.client.get(f"/v1/jobs/{job['id']}", headers=auth_a)).json()
    assert full["result"] == {"value": 42}
    assert full["progress"]["percentage"] == 100.0
    assert full["completed_at"] is not None


@pytest.mark.parametrize("status", ["queued", "running", "failed", "cancelled"])
async def test_result_of_an_unfinished_or_failed_job_is_409(
    api: Api, auth_a: Headers, status: str
) -> None:
    job = await _job_in(api, auth_a, status)

    response = await api.client.get(f"/v1/jobs/{job['id']}/result", headers=auth_a)

    body = assert_problem(response, 409, "CONFLICT")
    assert body["details"] == {"job_id": job["id"], "status": status}


async def test_a_failed_job_shows_the_handlers_error(api: Api, auth_a: Headers) -> None:
    job = await api.submit(auth_a, "fail", input={"code": "OCR_FAILED"})
    await api.run_worker()

    body = (await api.client.get(f"/v1/jobs/{job['id']}", headers=auth_a)).json()

    assert body["status"] == "failed"
    assert body["failed_at"] is not None and body["result"] is None
    assert body["error"] == {
        "code": "OCR_FAILED",
        "message": "failed on purpose",
        "details": {"n": 1},
        "retryable": False,
    }


async def test_cancelling_a_running_job_twice_answers_the_same(api: Api, auth_a: Headers) -> None:
    job = await _job_in(api, auth_a, "running")
    url = f"/v1/jobs/{job['id']}/cancel"

    first = await api.client.post(url, json={"reason": "first"}, headers=auth_a)
    second = await api.client.post(url, json={"reason": "second"}, headers=auth_a)

    assert first.status_code == second.status_code == 202
    assert second.json()["cancel_requested"] is True
    assert second.json()["cancel_reason"] == "first"
    assert second.json()["version"] == first.json()["version"]
