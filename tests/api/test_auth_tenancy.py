"""Credentials, scopes and tenant isolation: another tenant's job is indistinguishable from a job
that does not exist."""

from __future__ import annotations

import httpx
import pytest

from api.attack import AUTHENTICATED, Op, unknown
from api.conftest import JSON, Api, Headers, assert_problem, job_endpoints
from joblane.service.keys import generate_secret


def _target(op: Op) -> str | None:
    return unknown(op.id_param) if op.id_param else None


async def test_no_credentials_is_401_unauthorized_on_every_operation(
    client: httpx.AsyncClient,
) -> None:
    for op in AUTHENTICATED:  # every operation of the OpenAPI document that needs a key
        response = await op.call(client, {}, _target(op))

        assert_problem(response, 401, "UNAUTHORIZED")
        assert response.headers["www-authenticate"].lower().startswith("bearer"), op.label


@pytest.mark.parametrize(
    "headers",
    [{"X-API-Key": ""}, {"Authorization": "Bearer "}, {"Authorization": "Basic dTpw"}],
    ids=["empty-key", "empty-bearer", "basic"],
)
async def test_empty_or_foreign_credentials_are_401(
    client: httpx.AsyncClient, headers: Headers
) -> None:
    response = await client.get("/v1/jobs", headers=headers)

    assert_problem(response, 401, "UNAUTHORIZED")


def _broken(secret: str) -> str:
    last = secret[-1]
    return secret[:-1] + ("A" if last != "A" else "B")


async def test_bad_keys_are_401_invalid_api_key_on_every_operation(
    client: httpx.AsyncClient, auth_a: Headers, auth_revoked: Headers, auth_expired: Headers
) -> None:
    """Checked before the scope, the id and the body: whatever the key could have done."""
    candidates = {
        "unknown": generate_secret(),  # well-formed, its checksum right: looked up, not found
        "malformed": "not-a-key",
        "checksum": _broken(auth_a["X-API-Key"]),
        "revoked": auth_revoked["X-API-Key"],
        "expired": auth_expired["X-API-Key"],
    }
    for op in AUTHENTICATED:
        for name, secret in candidates.items():
            for headers in ({"X-API-Key": secret}, {"Authorization": f"Bearer {secret}"}):
                response = await op.call(client, headers, _target(op))

                body = assert_problem(response, 401, "INVALID_API_KEY")
                assert secret not in response.text, (op.label, name)
                assert "www-authenticate" in response.headers
                assert body["detail"], (op.label, name)


async def test_bearer_works_like_x_api_key(api: Api, auth_a: Headers) -> None:
    bearer = {"Authorization": f"Bearer {auth_a['X-API-Key']}"}
    job = await api.submit(bearer, "noop")

    via_key = await api.client.get(f"/v1/jobs/{job['id']}", headers=auth_a)
    via_lowercase_scheme = await api.client.get(
        f"/v1/jobs/{job['id']}", headers={"Authorization": f"bearer {auth_a['X-API-Key']}"}
    )

    assert via_key.status_code == via_lowercase_scheme.status_code == 200


async def test_read_only_key_can_read_but_not_write(
    api: Api, auth_a: Headers, auth_read: Headers
) -> None:
    job = await api.submit(auth_a, "echo")
    await api.run_worker()

    for url in ("/v1/jobs", f"/v1/jobs/{job['id']}", f"/v1/jobs/{job['id']}/result"):
        response = await api.client.get(url, headers=auth_read)
        assert response.status_code == 200, url
    writes = [
        ("POST", "/v1/jobs"),
        ("POST", f"/v1/jobs/{job['id']}/cancel"),
        ("POST", f"/v1/jobs/{job['id']}/retry"),
        ("DELETE", f"/v1/jobs/{job['id']}"),
    ]
    for method, url in writes:
        json: JSON | None = {"type": "noop", "input": {}} if url == "/v1/jobs" else None
        response = await api.client.request(method, url, headers=auth_read, json=json)
        body = assert_problem(response, 403, "FORBIDDEN")
        assert body["details"] == {"scope": "jobs:write"}
    still = await api.client.get(f"/v1/jobs/{job['id']}", headers=auth_a)
    assert still.status_code == 200


def _shape(response: httpx.Response, job_id: str) -> tuple[int, str, list[str], str]:
    body = response.json()
    return (
        response.status_code,
        body["code"],
        sorted(body),
        body["detail"].replace(job_id, "<id>"),
    )


@pytest.mark.parametrize("status", ["queued", "completed", "failed"])
async def test_another_tenants_job_answers_exactly_like_a_missing_one(
    api: Api, auth_a: Headers, auth_b: Headers, status: str
) -> None:
    job = await api.submit(auth_a, {"queued": "nap", "completed": "echo", "failed": "fail"}[status])
    if status != "queued":
        await api.run_worker()
    missing = "job_" + job["id"][4:-1] + ("0" if job["id"][-1] != "0" else "1")

    for (method, url), (_, missing_url) in zip(
        job_endpoints(job["id"]), job_endpoints(missing), strict=True
    ):
        theirs = await api.client.request(method, url, headers=auth_b)
        nothing = await api.client.request(method, missing_url, headers=auth_b)

        assert theirs.status_code == 404, (method, url, theirs.text)
        assert _shape(theirs, job["id"]) == _shape(nothing, missing), (method, url)
        assert theirs.headers.keys() - {"content-length"} == nothing.headers.keys() - {
            "content-length"
        }
        assert status not in theirs.text.replace(job["id"], "")
    owner = await api.client.get(f"/v1/jobs/{job['id']}", headers=auth_a)
    assert owner.json()["status"] == status


async def test_admin_can_read_any_tenants_job(
    api: Api, auth_a: Headers, auth_admin: Headers
) -> None:
    job = await api.submit(auth_a, "echo", input={"value": 3})
    await api.run_worker()

    got = await api.client.get(f"/v1/jobs/{job['id']}", headers=auth_admin)
    result = await api.client.get(f"/v1/jobs/{job['id']}/result", headers=auth_admin)

    assert got.status_code == 200
    assert got.json()["id"] == job["id"]
    assert result.json() == {"value": 3}


async def test_a_key_of_another_tenant_cannot_change_the_job(
    api: Api, auth_a: Headers, auth_b: Headers
) -> None:
    job = await api.submit(auth_a, "noop")

    await api.client.post(f"/v1/jobs/{job['id']}/cancel", headers=auth_b)
    await api.client.delete(f"/v1/jobs/{job['id']}", headers=auth_b)

    after = await api.client.get(f"/v1/jobs/{job['id']}", headers=auth_a)
    assert (after.json()["status"], after.json()["version"]) == ("queued", 1)
