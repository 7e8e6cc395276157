"""Problem details everywhere: malformed and unknown ids, routing errors, crashes that leak
nothing, unavailable storage, and request ids."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from api.conftest import UNKNOWN_ID, Api, Headers, assert_problem, job_endpoints
from joblane.core import ids

REQUEST_ID = re.compile(r"^req_[0-9A-HJKMNP-TV-Z]{26}$")


MALFORMED = {
    "word": "nope",
    "short": "job_123",
    "lowercase": "job_" + ids.ulid().lower(),
    "other-prefix": "key_" + ids.ulid(),
    "bad-letter": "job_" + "0" * 25 + "U",
    "overflow": "job_8" + "0" * 25,
}


@pytest.mark.parametrize("bad_id", MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_malformed_id_is_400_on_every_job_endpoint(
    client: httpx.AsyncClient, auth_a: Headers, bad_id: str
) -> None:
    for method, url in job_endpoints(bad_id):
        response = await client.request(method, url, headers=auth_a)

        body = assert_problem(response, 400, "INVALID_JOB_ID")
        assert body["details"]["reason"], (method, url)


async def test_an_unknown_id_is_404_on_every_job_endpoint(
    client: httpx.AsyncClient, auth_a: Headers
) -> None:
    for method, url in job_endpoints(UNKNOWN_ID):
        response = await client.request(method, url, headers=auth_a)

        body = assert_problem(response, 404, "JOB_NOT_FOUND", detail=UNKNOWN_ID)
        assert body["details"] == {"job_id": UNKNOWN_ID}, (method, url)
        assert body["title"] == "Job not found"
        assert body["type"].endswith("/errors/job-not-found")


async def test_a_crashing_handler_fails_the_job_without_leaking(api: Api, auth_a: Headers) -> None:
    job = await api.submit(auth_a, "crash")
    await api.run_worker()

    response = await api.client.get(f"/v1/jobs/{job['id']}", headers=auth_a)
    listed = await api.client.get("/v1/jobs", headers=auth_a)

    body = response.json()
    assert body["status"] == "failed"
    assert body["error"]["code"] == "HANDLER_ERROR"
    for text in (response.text, listed.text):
        assert "secret internal detail" not in text
        assert "/etc/passwd" not in text
        assert "Traceback" not in text
        assert 'File "' not in text


async def test_an_unexpected_exception_is_a_500_problem_that_leaks_nothing(
    api: Api, auth_a: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def explode(*args: Any) -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    job = await api.submit(auth_a, "noop")
    monkeypatch.setattr(api.jobs, "get", explode)

    response = await api.client.get(f"/v1/jobs/{job['id']}", headers=auth_a)

    assert_problem(response, 500, "INTERNAL_ERROR")
    assert "secret" not in response.text and "RuntimeError" not in response.text


async def test_an_unknown_route_is_a_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/nothing-here")

    assert_problem(response, 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "url", "allowed"),
    [
        ("PUT", f"/v1/jobs/{UNKNOWN_ID}/cancel", {"POST"}),
        ("DELETE", f"/v1/jobs/{UNKNOWN_ID}/result", {"GET", "HEAD"}),
        ("POST", "/healthz", {"GET", "HEAD"}),
        ("PATCH", f"/v1/jobs/{UNKNOWN_ID}", {"GET", "HEAD", "DELETE"}),
        ("DELETE", "/v1/jobs", {"GET", "HEAD", "POST"}),
    ],
)
async def test_a_wrong_method_is_a_405_problem_with_allow(
    client: httpx.AsyncClient, method: str, url: str, allowed: set[str]
) -> None:
    response = await client.request(method, url)

    assert_problem(response, 405, "METHOD_NOT_ALLOWED")
    assert {m.strip() for m in response.headers["allow"].split(",")} == allowed


async def test_unsupported_media_type_is_a_problem(
    client: httpx.AsyncClient, auth_a: Headers
) -> None:
    response = await client.post(
        "/v1/jobs", content=b"type=noop", headers={**auth_a, "Content-Type": "text/plain"}
    )

    assert_problem(response, 415, "UNSUPPORTED_MEDIA_TYPE")


# -- storage unavailable ---------------------------------------------------------------------
READS_AND_WRITES: list[tuple[str, str, Callable[[str], dict[str, Any]]]] = [
    ("GET", "/v1/jobs", lambda job_id: {}),
    ("GET", "/v1/jobs/{id}", lambda job_id: {}),
    ("POST", "/v1/jobs", lambda job_id: {"json": {"type": "noop", "input": {}}}),
    ("POST", "/v1/jobs/{id}/cancel", lambda job_id: {}),
]


@pytest.mark.parametrize(("method", "url", "extra"), READS_AND_WRITES)
async def test_closed_storage_is_503_with_retry_after(
    api: Api,
    auth_a: Headers,
    method: str,
    url: str,
    extra: Callable[[str], dict[str, Any]],
) -> None:
    job = await api.submit(auth_a, "noop")  # also warms the key cache
    await api.storage.close()

    response = await asyncio.wait_for(
        api.client.request(method, url.format(id=job["id"]), headers=auth_a, **extra(job["id"])),
        timeout=5,
    )

    assert_problem(response, 503, "UNAVAILABLE")
    assert int(response.headers["retry-after"]) >= 1


# -- request ids -----------------------------------------------------------------------------
async def test_every_response_has_a_generated_request_id(
    client: httpx.AsyncClient, auth_a: Headers
) -> None:
    ok = await client.get("/healthz")
    listed = await client.get("/v1/jobs", headers=auth_a)
    failed = await client.get("/v1/jobs")

    seen = {r.headers["x-request-id"] for r in (ok, listed, failed)}
    assert len(seen) == 3
    assert all(REQUEST_ID.match(value) for value in seen)
    assert failed.json()["request_id"] == failed.headers["x-request-id"]


@pytest.mark.parametrize("supplied", ["abc-123", "trace:7f.a_B", "x" * 128])
async def test_a_valid_client_request_id_is_echoed(
    client: httpx.AsyncClient, supplied: str
) -> None:
    ok = await client.get("/healthz", headers={"X-Request-Id": supplied})
    problem = await client.get("/v1/jobs", headers={"X-Request-Id": supplied})

    assert ok.headers["x-request-id"] == supplied
    assert problem.headers["x-request-id"] == supplied
    assert assert_problem(problem, 401, "UNAUTHORIZED")["request_id"] == supplied


@pytest.mark.parametrize("supplied", ["x" * 300, "has spaces", "semi;colon", "ünïcode", ""])
async def test_an_invalid_client_request_id_is_replaced(
    client: httpx.AsyncClient, supplied: str
) -> None:
    response = await client.get("/v1/jobs", headers={b"X-Request-Id": supplied.encode()})

    generated = response.headers["x-request-id"]
    assert generated != supplied
    assert REQUEST_ID.match(generated)
    assert response.json()["request_id"] == generated
    assert response.headers.get_list("x-request-id") == [generated]


async def test_responses_without_a_body_carry_the_request_id_too(api: Api, auth_a: Headers) -> None:
    job = await api.submit(auth_a, "noop")
    not_modified = await api.client.get(
        f"/v1/jobs/{job['id']}", headers={**auth_a, "If-None-Match": '"1"', "X-Request-Id": "r1"}
    )
    await api.client.post(f"/v1/jobs/{job['id']}/cancel", headers=auth_a)

    deleted = await api.client.delete(
        f"/v1/jobs/{job['id']}", headers={**auth_a, "X-Request-Id": "r2"}
    )

    assert (not_modified.status_code, not_modified.headers["x-request-id"]) == (304, "r1")
    assert (deleted.status_code, deleted.headers["x-request-id"]) == (204, "r2")
