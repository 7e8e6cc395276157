"""Batch ids on every batch endpoint: a malformed one is 400, an unknown one 404, and another
tenant's batch answers exactly like one that does not exist (an admin may read it)."""

from __future__ import annotations

import httpx
import pytest

from api.batching import UNKNOWN_BATCH, bad, batch_endpoints, get_batch, ok, submit_batch
from api.conftest import Api, Headers, assert_problem


@pytest.mark.parametrize(
    "bad_id",
    ["bat_123", "job_" + "0" * 26, "bat_" + "U" * 26, "bat_8" + "0" * 25, "bat_" + "0" * 27],
)
async def test_a_malformed_batch_id_is_400_on_every_endpoint(
    client: httpx.AsyncClient, auth_a: Headers, bad_id: str
) -> None:
    for method, url in batch_endpoints(bad_id):
        response = await client.request(method, url, headers=auth_a)

        body = assert_problem(response, 400, "INVALID_BATCH_ID")
        assert body["details"]["reason"], (method, url)


async def test_an_unknown_batch_is_404_on_every_endpoint(
    client: httpx.AsyncClient, auth_a: Headers
) -> None:
    for method, url in batch_endpoints(UNKNOWN_BATCH):
        response = await client.request(method, url, headers=auth_a)

        assert_problem(response, 404, "BATCH_NOT_FOUND", detail=UNKNOWN_BATCH)


def _shape(response: httpx.Response, batch_id: str) -> tuple[int, str, list[str], str, object]:
    body = response.json()
    details = {**body.get("details", {}), "batch_id": "<id>"} if "details" in body else None
    return (
        response.status_code,
        body["code"],
        sorted(body),
        body["detail"].replace(batch_id, "<id>"),
        details,
    )


@pytest.mark.parametrize("state", ["queued", "finished"])
async def test_another_tenants_batch_answers_exactly_like_a_missing_one(
    api: Api, auth_a: Headers, auth_b: Headers, state: str
) -> None:
    batch = await submit_batch(api, auth_a, [ok(0), bad(1, "X")])
    if state == "finished":
        await api.run_worker()
    before = await get_batch(api, auth_a, batch["id"])
    missing = batch["id"][:-1] + ("0" if batch["id"][-1] != "0" else "1")

    for (method, url), (_, missing_url) in zip(
        batch_endpoints(batch["id"]), batch_endpoints(missing), strict=True
    ):
        theirs = await api.client.request(method, url, headers=auth_b)
        nothing = await api.client.request(method, missing_url, headers=auth_b)

        assert theirs.status_code == 404, (method, url, theirs.text)
        assert _shape(theirs, batch["id"]) == _shape(nothing, missing), (method, url)
        assert theirs.headers.keys() - {"content-length"} == nothing.headers.keys() - {
            "content-length"
        }
    after = await get_batch(api, auth_a, batch["id"])
    assert (after["status"], after["version"]) == (before["status"], before["version"])


async def test_an_admin_can_read_any_tenants_batch(
    api: Api, auth_a: Headers, auth_admin: Headers
) -> None:
    batch = await submit_batch(api, auth_a, [ok(0)])

    response = await api.client.get(f"/v1/batches/{batch['id']}", headers=auth_admin)

    assert response.status_code == 200
    assert response.json()["id"] == batch["id"]
