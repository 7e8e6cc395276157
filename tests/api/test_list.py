"""GET /v1/jobs: newest first, cursor paging, filters, query validation and tenant isolation."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import httpx
import pytest

from api.conftest import Api, Headers, assert_problem
from joblane.core import ids


async def test_lists_newest_first(api: Api, auth_a: Headers) -> None:
    submitted = [(await api.submit(auth_a, "noop"))["id"] for _ in range(30)]

    response = await api.client.get("/v1/jobs", headers=auth_a)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"object", "data", "next_cursor"}
    assert body["object"] == "list"
    assert body["next_cursor"] is None
    assert [job["id"] for job in body["data"]] == submitted[::-1]
    assert all(job["object"] == "job" and "input" not in job for job in body["data"])


async def test_newest_first_holds_within_one_millisecond(
    api: Api, auth_a: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Jobs submitted one after another in the same millisecond still list newest first."""
    frozen = time.time()
    monkeypatch.setattr(ids, "time", SimpleNamespace(time=lambda: frozen))
    submitted = [(await api.submit(auth_a, "noop"))["id"] for _ in range(20)]

    listed = await _ids(api, auth_a, limit="7")
    assert listed == submitted[::-1][:7]
    assert await _ids(api, auth_a, cursor=listed[-1]) == submitted[::-1][7:]


async def test_cursor_paging_covers_every_job_once(api: Api, auth_a: Headers) -> None:
    submitted = [(await api.submit(auth_a, "noop"))["id"] for _ in range(11)]
    seen: list[str] = []
    cursor: str | None = None
    pages = 0

    while True:
        params = {"limit": "4", **({"cursor": cursor} if cursor else {})}
        response = await api.client.get("/v1/jobs", params=params, headers=auth_a)
        assert response.status_code == 200
        page = response.json()
        assert len(page["data"]) <= 4
        seen += [job["id"] for job in page["data"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert pages == 3
    assert len(seen) == len(set(seen)) == 11
    assert seen == submitted[::-1]


async def test_an_exact_page_has_no_next_cursor(api: Api, auth_a: Headers) -> None:
    for _ in range(3):
        await api.submit(auth_a, "noop")

    response = await api.client.get("/v1/jobs", params={"limit": "3"}, headers=auth_a)

    assert len(response.json()["data"]) == 3
    assert response.json()["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"status": "queued,sleeping"}, "status"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_before": "2026-13-45T00:00:00Z"}, "created_before"),
        ({"cursor": "garbage"}, "cursor"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_invalid_query_parameters_are_422(
    client: httpx.AsyncClient, auth_a: Headers, params: dict[str, str], loc: str
) -> None:
    response = await client.get("/v1/jobs", params=params, headers=auth_a)

    body = assert_problem(response, 422, "VALIDATION_ERROR")
    assert [error["loc"] for error in body["errors"]] == [["query", loc]]


async def test_every_bad_parameter_is_reported(client: httpx.AsyncClient, auth_a: Headers) -> None:
    response = await client.get("/v1/jobs", params={"limit": "0", "x": "1"}, headers=auth_a)

    body = assert_problem(response, 422, "VALIDATION_ERROR")
    assert sorted(error["loc"][1] for error in body["errors"]) == ["limit", "x"]


async def test_limit_bounds_are_accepted(api: Api, auth_a: Headers) -> None:
    await api.submit(auth_a, "noop")
    await api.submit(auth_a, "noop")

    one = await api.client.get("/v1/jobs", params={"limit": "1"}, headers=auth_a)
    most = await api.client.get("/v1/jobs", params={"limit": "1000"}, headers=auth_a)

    assert len(one.json()["data"]) == 1 and one.json()["next_cursor"] is not None
    assert len(most.json()["data"]) == 2


async def _ids(api: Api, headers: Headers, **params: str) -> list[str]:
    response = await api.client.get("/v1/jobs", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [job["id"] for job in response.json()["data"]]


async def test_filter_by_status(api: Api, auth_a: Headers) -> None:
    queued = await api.submit(auth_a, "noop")
    running = await api.submit(auth_a, "nap")
    cancelled = await api.submit(auth_a, "noop")
    await api.claim("nap")
    await api.client.post(f"/v1/jobs/{cancelled['id']}/cancel", headers=auth_a)

    assert await _ids(api, auth_a, status="queued") == [queued["id"]]
    assert await _ids(api, auth_a, status="running") == [running["id"]]
    assert await _ids(api, auth_a, status="cancelled,queued") == [cancelled["id"], queued["id"]]
    assert await _ids(api, auth_a, status="completed") == []


async def test_filter_by_type_and_metadata(api: Api, auth_a: Headers) -> None:
    echo = await api.submit(auth_a, "echo", metadata={"customer": "A-17", "env": "prod"})
    nap = await api.submit(auth_a, "nap", metadata={"customer": "A-17"})
    other = await api.submit(auth_a, "noop", metadata={"customer": "B-2"})

    assert await _ids(api, auth_a, type="echo") == [echo["id"]]
    assert await _ids(api, auth_a, type="echo,noop") == [other["id"], echo["id"]]
    assert await _ids(api, auth_a, **{"metadata.customer": "A-17"}) == [nap["id"], echo["id"]]
    both = {"metadata.customer": "A-17", "metadata.env": "prod"}
    assert await _ids(api, auth_a, **both) == [echo["id"]]
    assert await _ids(api, auth_a, **{"metadata.customer": "A-17", "type": "nap"}) == [nap["id"]]
    assert await _ids(api, auth_a, **{"metadata.missing": "x"}) == []


async def test_filter_by_creation_time(api: Api, auth_a: Headers) -> None:
    before = await api.submit(auth_a, "noop")
    await asyncio.sleep(0.05)
    middle = datetime.now(UTC)
    await asyncio.sleep(0.05)
    after = await api.submit(auth_a, "noop")
    stamp = middle.isoformat().replace("+00:00", "Z")

    assert await _ids(api, auth_a, created_after=stamp) == [after["id"]]
    assert await _ids(api, auth_a, created_before=stamp) == [before["id"]]
    past = (middle - timedelta(hours=1)).isoformat()
    future = (middle + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    window = await _ids(api, auth_a, created_after=past, created_before=future)
    assert window == [after["id"], before["id"]]


async def test_another_tenants_jobs_never_appear(
    api: Api, auth_a: Headers, auth_b: Headers, auth_admin: Headers
) -> None:
    mine = await api.submit(auth_a, "noop", metadata={"k": "v"})
    theirs = await api.submit(auth_b, "noop", metadata={"k": "v"})

    assert await _ids(api, auth_a) == [mine["id"]]
    assert await _ids(api, auth_b) == [theirs["id"]]
    assert await _ids(api, auth_b, **{"metadata.k": "v"}) == [theirs["id"]]
    assert await _ids(api, auth_b, cursor=theirs["id"]) == []
    assert await _ids(api, auth_admin) == [theirs["id"], mine["id"]]


async def test_include_input_applies_to_listed_jobs(api: Api, auth_a: Headers) -> None:
    await api.submit(auth_a, "echo", input={"value": 9})

    response = await api.client.get("/v1/jobs", params={"include": "input"}, headers=auth_a)

    assert [job["input"] for job in response.json()["data"]] == [{"value": 9}]


async def test_fields_applies_to_listed_jobs(api: Api, auth_a: Headers) -> None:
    job = await api.submit(auth_a, "noop")

    response = await api.client.get("/v1/jobs", params={"fields": "status"}, headers=auth_a)

    assert response.json()["data"] == [{"id": job["id"], "status": "queued"}]
