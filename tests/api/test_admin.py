"""The admin API: tenants with their settings and API keys, admin scope only, secrets shown once."""

from __future__ import annotations

import httpx
import pytest

from api.conftest import JSON, Api, Headers, assert_problem

ADMIN_ROUTES = [
    ("GET", "/v1/admin/tenants"),
    ("POST", "/v1/admin/tenants"),
    ("GET", "/v1/admin/tenants/acme"),
    ("PATCH", "/v1/admin/tenants/acme"),
    ("GET", "/v1/admin/keys"),
    ("POST", "/v1/admin/keys"),
    ("GET", "/v1/admin/keys/key_01ARZ3NDEKTSV4RRFFQ69G5FAV"),
    ("POST", "/v1/admin/keys/key_01ARZ3NDEKTSV4RRFFQ69G5FAV/revoke"),
    ("POST", "/v1/admin/keys/key_01ARZ3NDEKTSV4RRFFQ69G5FAV/rotate"),
]


async def create_key(client: httpx.AsyncClient, admin: Headers, **body: object) -> JSON:
    response = await client.post(
        "/v1/admin/keys", json={"tenant_id": "acme", **body}, headers=admin
    )
    assert response.status_code == 201, response.text
    created: JSON = response.json()
    return created


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
async def test_admin_routes_need_the_admin_scope(
    client: httpx.AsyncClient, auth_a: Headers, method: str, path: str
) -> None:
    assert_problem(await client.request(method, path, headers=auth_a), 403, "FORBIDDEN")
    assert_problem(await client.request(method, path), 401, "UNAUTHORIZED")


async def test_create_get_list_and_update_a_tenant(
    client: httpx.AsyncClient, auth_admin: Headers
) -> None:
    created = await client.post(
        "/v1/admin/tenants",
        json={"id": "acme", "name": "Acme", "settings": {"max_running": 5, "job_types": ["noop"]}},
        headers=auth_admin,
    )
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/v1/admin/tenants/acme"
    body = created.json()
    assert body["settings"]["max_running"] == 5
    assert body["settings"]["job_types"] == ["noop"]
    assert body["settings"]["retention_days"] is None  # the server default

    patched = await client.patch(
        "/v1/admin/tenants/acme",
        json={"settings": {"max_running": None, "retention_days": 7}},
        headers=auth_admin,
    )
    assert patched.status_code == 200, patched.text
    settings = patched.json()["settings"]
    assert (settings["max_running"], settings["retention_days"]) == (None, 7)
    assert settings["job_types"] == ["noop"]  # untouched
    fetched = await client.get("/v1/admin/tenants/acme", headers=auth_admin)
    assert fetched.json() == patched.json()
    listed = (await client.get("/v1/admin/tenants", headers=auth_admin)).json()
    assert "acme" in [t["id"] for t in listed["data"]]


async def test_tenant_errors(client: httpx.AsyncClient, auth_admin: Headers) -> None:
    ok = {"id": "acme"}
    assert (await client.post("/v1/admin/tenants", json=ok, headers=auth_admin)).status_code == 201
    again = await client.post("/v1/admin/tenants", json=ok, headers=auth_admin)
    assert_problem(again, 409, "CONFLICT")
    missing = await client.get("/v1/admin/tenants/nobody", headers=auth_admin)
    assert_problem(missing, 404, "TENANT_NOT_FOUND")
    bad_id = await client.post("/v1/admin/tenants", json={"id": "no spaces"}, headers=auth_admin)
    assert_problem(bad_id, 422, "VALIDATION_ERROR")
    bad = await client.patch(
        "/v1/admin/tenants/acme",
        json={"settings": {"max_running": 0, "colour": "red"}},
        headers=auth_admin,
    )
    body = assert_problem(bad, 422, "VALIDATION_ERROR")
    locs = {tuple(e["loc"]) for e in body["errors"]}
    assert locs == {("body", "settings", "max_running"), ("body", "settings", "colour")}
    coerced = await client.patch(
        "/v1/admin/tenants/acme",
        json={"settings": {"read_burst": True, "retention_days": "5"}},
        headers=auth_admin,
    )
    body = assert_problem(coerced, 422, "VALIDATION_ERROR")
    locs = {tuple(e["loc"]) for e in body["errors"]}
    assert locs == {("body", "settings", "read_burst"), ("body", "settings", "retention_days")}


async def test_a_created_key_works_once_shown_and_is_never_listed_with_its_secret(
    client: httpx.AsyncClient, auth_admin: Headers
) -> None:
    created = await create_key(client, auth_admin, scopes=["jobs:read"], name="ci")
    secret = created["secret"]
    assert secret.startswith("jlk_")
    assert created["status"] == "active"
    assert created["scopes"] == ["jobs:read"]

    own = {"X-API-Key": secret}
    assert (await client.get("/v1/jobs", headers=own)).status_code == 200
    assert_problem(
        await client.post("/v1/jobs", json={"type": "noop", "input": {}}, headers=own),
        403,
        "FORBIDDEN",
    )
    listed = await client.get("/v1/admin/keys?tenant_id=acme", headers=auth_admin)
    assert [k["id"] for k in listed.json()["data"]] == [created["id"]]
    assert secret not in listed.text
    fetched = await client.get(f"/v1/admin/keys/{created['id']}", headers=auth_admin)
    assert secret not in fetched.text
    assert "key_hash" not in fetched.text


async def test_revoke_stops_a_key_at_once(client: httpx.AsyncClient, auth_admin: Headers) -> None:
    created = await create_key(client, auth_admin)
    own = {"X-API-Key": created["secret"]}
    assert (await client.get("/v1/jobs", headers=own)).status_code == 200

    revoked = await client.post(f"/v1/admin/keys/{created['id']}/revoke", headers=auth_admin)

    assert revoked.json()["status"] == "revoked"
    assert_problem(await client.get("/v1/jobs", headers=own), 401, "INVALID_API_KEY")
    again = await client.post(f"/v1/admin/keys/{created['id']}/revoke", headers=auth_admin)
    assert_problem(again, 404, "KEY_NOT_FOUND")


async def test_rotate_returns_a_new_secret_and_the_old_one_stops(
    client: httpx.AsyncClient, auth_admin: Headers
) -> None:
    old = await create_key(client, auth_admin, name="deploy")

    rotated = await client.post(
        f"/v1/admin/keys/{old['id']}/rotate", json={"grace_seconds": 0}, headers=auth_admin
    )

    assert rotated.status_code == 201, rotated.text
    new = rotated.json()
    assert new["secret"] != old["secret"] and new["name"] == "deploy"
    assert (await client.get("/v1/jobs", headers={"X-API-Key": new["secret"]})).status_code == 200
    assert_problem(
        await client.get("/v1/jobs", headers={"X-API-Key": old["secret"]}), 401, "INVALID_API_KEY"
    )
    retired = (await client.get(f"/v1/admin/keys/{old['id']}", headers=auth_admin)).json()
    assert retired["replaced_by"] == new["id"]
    assert retired["status"] == "expired"


async def test_key_ids_and_bodies_are_checked(
    client: httpx.AsyncClient, auth_admin: Headers
) -> None:
    assert_problem(
        await client.get("/v1/admin/keys/not-a-key", headers=auth_admin), 400, "INVALID_KEY_ID"
    )
    assert_problem(
        await client.get("/v1/admin/keys/key_01ARZ3NDEKTSV4RRFFQ69G5FAV", headers=auth_admin),
        404,
        "KEY_NOT_FOUND",
    )
    for body in (
        {"tenant_id": "acme", "scopes": ["root"]},
        {"tenant_id": "acme", "scopes": []},
        {"tenant_id": "acme", "expires_in": -5},
        {"tenant_id": "acme", "expires_at": "2001-01-01T00:00:00Z"},
        {"tenant_id": "acme", "expires_in": 60, "expires_at": "2999-01-01T00:00:00Z"},
        {"tenant_id": "a b"},
    ):
        response = await client.post("/v1/admin/keys", json=body, headers=auth_admin)
        assert_problem(response, 422, "VALIDATION_ERROR")
    assert_problem(
        await client.get("/v1/admin/keys?colour=red", headers=auth_admin), 422, "VALIDATION_ERROR"
    )


async def test_an_expiring_key_reports_its_expiry(
    client: httpx.AsyncClient, auth_admin: Headers
) -> None:
    created = await create_key(client, auth_admin, expires_in=3600)

    assert created["expires_at"] is not None
    assert (
        await client.get("/v1/jobs", headers={"X-API-Key": created["secret"]})
    ).status_code == 200


# -- the settings take effect ----------------------------------------------------------------
async def test_a_tenant_may_be_limited_to_some_job_types(
    api: Api, client: httpx.AsyncClient, auth_admin: Headers
) -> None:
    headers = await api.headers_for("acme")
    await client.patch(
        "/v1/admin/tenants/acme", json={"settings": {"job_types": ["noop"]}}, headers=auth_admin
    )

    assert (
        await client.post("/v1/jobs", json={"type": "noop", "input": {}}, headers=headers)
    ).status_code == 202
    refused = await client.post("/v1/jobs", json={"type": "nap", "input": {}}, headers=headers)
    assert_problem(refused, 403, "FORBIDDEN", detail="may not use job type 'nap'")
    lines = b'{"type": "noop", "input": {}}\n{"type": "nap", "input": {}}\n'
    batch = await client.post(
        "/v1/batches",
        content=lines,
        headers={**headers, "Content-Type": "application/x-ndjson"},
    )
    assert_problem(batch, 403, "FORBIDDEN", detail="line 2")


async def test_a_tenant_payload_limit_below_the_servers(
    api: Api, client: httpx.AsyncClient, auth_admin: Headers
) -> None:
    headers = await api.headers_for("acme")
    await client.patch(
        "/v1/admin/tenants/acme", json={"settings": {"max_payload_bytes": 2048}}, headers=auth_admin
    )
    big = {"type": "noop", "input": {}, "metadata": {"pad": "x" * 400}, "priority": 0}
    padded = {**big, "metadata": {f"k{i}": "x" * 400 for i in range(6)}}

    assert (await client.post("/v1/jobs", json=big, headers=headers)).status_code == 202
    too_big = await client.post("/v1/jobs", json=padded, headers=headers)
    assert_problem(too_big, 413, "PAYLOAD_TOO_LARGE")
    other = await api.headers_for("other")
    assert (await client.post("/v1/jobs", json=padded, headers=other)).status_code == 202
