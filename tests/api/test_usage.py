"""`GET /v1/usage`: billable units per tenant and UTC day. Submissions and finished attempts
count; status polls, replays and rate-limited requests never do."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import pytest

from api.batching import bad, ok, submit_batch
from api.conftest import JSON, SETTINGS, Api, Headers, assert_problem
from joblane.api.app import create_app
from joblane.api.context import ApiContext
from joblane.api.routes.usage import KNOWN
from joblane.core.principal import WRITE
from joblane.core.usage import utc_day


async def usage(api: Api, headers: Headers, **params: str) -> JSON:
    response = await api.client.get("/v1/usage", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: JSON = response.json()
    return body


async def totals(api: Api, headers: Headers) -> tuple[int, int]:
    """(jobs submitted, items processed) from yesterday to tomorrow (a run across midnight)."""
    today = utc_day(api.storage.now())
    since, until = str(today - timedelta(days=1)), str(today + timedelta(days=1))
    body = (await usage(api, headers, **{"from": since, "to": until}))["totals"]
    return body["jobs_submitted"], body["items_processed"]


# -- what counts -----------------------------------------------------------------------------
async def test_submitted_and_processed_jobs_are_counted(api: Api, auth_a: Headers) -> None:
    await api.submit(auth_a, "echo", input={"value": 1})
    await api.submit(auth_a, "fail", input={"retryable": False})
    replayed = {**auth_a, "Idempotency-Key": "order-1"}
    first = await api.client.post("/v1/jobs", json={"type": "noop", "input": {}}, headers=replayed)
    replay = await api.client.post("/v1/jobs", json={"type": "noop", "input": {}}, headers=replayed)
    assert first.status_code == 202 and replay.json()["id"] == first.json()["id"]
    await submit_batch(api, auth_a, [ok(1), ok(2), bad(3, "FORMAT_ERROR")])
    cancelled = await api.submit(auth_a, "noop", run_at="2999-01-01T00:00:00Z")
    response = await api.client.post(f"/v1/jobs/{cancelled['id']}/cancel", headers=auth_a)
    assert response.status_code == 200
    assert await totals(api, auth_a) == (7, 0)

    await api.run_worker()

    # 7 accepted (the replay is the same job); 6 processed (completed or failed, not cancelled)
    assert await totals(api, auth_a) == (7, 6)


async def test_polling_a_job_never_counts(api: Api, auth_a: Headers) -> None:
    job = await api.submit(auth_a)
    await api.run_worker()
    before = await totals(api, auth_a)

    for _ in range(100):
        response = await api.client.get(f"/v1/jobs/{job['id']}", headers=auth_a)
        assert response.status_code == 200
    etag = {**auth_a, "If-None-Match": response.headers["etag"]}
    assert (await api.client.get(f"/v1/jobs/{job['id']}", headers=etag)).status_code == 304
    assert (await api.client.get("/v1/jobs", headers=auth_a)).status_code == 200

    assert before == (1, 1)
    assert await totals(api, auth_a) == before


@contextlib.asynccontextmanager
async def rate_limited(api: Api, write_burst: int) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the same services behind an in-process limiter allowing `write_burst`
    writes (then practically none)."""
    ratelimit = pytest.importorskip("joblane.api.ratelimit", reason="no rate limiter exists yet")
    limiting = pytest.importorskip("joblane.service.ratelimit")
    if "limits" not in {f.name for f in dataclasses.fields(ApiContext)}:
        pytest.skip("no rate limiter is wired into the API yet")
    policies = limiting.RatePolicies(
        limiting.RatePolicy("read", 1000.0, 1000), limiting.RatePolicy("write", 0.001, write_burst)
    )
    limits = ratelimit.RateLimits(limiting.MemoryRateLimiter(), policies)
    ctx = ApiContext(api.storage, api.jobs, api.keys, SETTINGS, api.batches, limits=limits)
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_rate_limited_submissions_never_count(api: Api, auth_a: Headers) -> None:
    job = {"type": "noop", "input": {}}
    async with rate_limited(api, write_burst=2) as client:
        statuses = [(await client.post("/v1/jobs", json=job, headers=auth_a)).status_code]
        statuses += [(await client.post("/v1/jobs", json=job, headers=auth_a)).status_code]
        refused = await client.post("/v1/jobs", json=job, headers=auth_a)
        batch = await client.post("/v1/batches", json={"jobs": [job] * 5}, headers=auth_a)

    assert statuses == [202, 202]
    assert_problem(refused, 429, "RATE_LIMITED")
    assert_problem(batch, 429, "RATE_LIMITED")
    assert await totals(api, auth_a) == (2, 0)


# -- whose usage -----------------------------------------------------------------------------
async def test_another_tenants_usage_is_invisible(
    api: Api, auth_a: Headers, auth_b: Headers
) -> None:
    await api.submit(auth_a)
    await api.run_worker()

    assert await totals(api, auth_b) == (0, 0)
    body = await usage(api, auth_b)
    assert body["tenant_id"] == "tenant-b"
    response = await api.client.get("/v1/usage", params={"tenant": "tenant-a"}, headers=auth_b)
    assert_problem(response, 403, "FORBIDDEN")
    own = await api.client.get("/v1/usage", params={"tenant": "tenant-b"}, headers=auth_b)
    assert own.status_code == 200 and own.json()["tenant_id"] == "tenant-b"


async def test_admin_keys_read_any_tenant(api: Api, auth_a: Headers, auth_admin: Headers) -> None:
    await api.submit(auth_a)

    body = await usage(api, auth_admin, tenant="tenant-a")
    own = await usage(api, auth_admin)

    assert body["tenant_id"] == "tenant-a" and body["totals"]["jobs_submitted"] == 1
    assert own["tenant_id"] != "tenant-a" and own["totals"]["jobs_submitted"] == 0


async def test_needs_a_key_with_read_scope(api: Api, auth_read: Headers) -> None:
    write_only = await api.headers_for("tenant-a", WRITE)

    assert_problem(await api.client.get("/v1/usage"), 401, "UNAUTHORIZED")
    assert_problem(await api.client.get("/v1/usage", headers=write_only), 403, "FORBIDDEN")
    assert (await api.client.get("/v1/usage", headers=auth_read)).status_code == 200


# -- the range -------------------------------------------------------------------------------
async def test_default_is_the_last_30_days_with_zeros(api: Api, auth_a: Headers) -> None:
    await api.submit(auth_a)
    today = utc_day(api.storage.now())

    body = await usage(api, auth_a)

    assert body["object"] == "usage"
    assert body["to"] == str(today) and body["from"] == str(today - timedelta(days=29))
    assert [day["date"] for day in body["days"]] == [
        str(today - timedelta(days=n)) for n in range(29, -1, -1)
    ]
    assert body["days"][-1] == {"date": str(today), "jobs_submitted": 1, "items_processed": 0}
    assert all(day["jobs_submitted"] == 0 for day in body["days"][:-1])
    assert body["totals"] == {"jobs_submitted": 1, "items_processed": 0}


async def test_an_explicit_range_and_one_bound(api: Api, auth_a: Headers) -> None:
    body = await usage(api, auth_a, **{"from": "2026-02-27", "to": "2026-03-02"})
    only_to = await usage(api, auth_a, to="2026-03-02")

    assert [day["date"] for day in body["days"]] == [
        "2026-02-27",
        "2026-02-28",
        "2026-03-01",
        "2026-03-02",
    ]
    assert (only_to["from"], only_to["to"]) == ("2026-02-01", "2026-03-02")
    assert len(only_to["days"]) == 30


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-02-30"}, "from"),
        ({"from": "20260201"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "from"),
        ({"from": "2025-01-01", "to": "2026-01-02"}, "to"),  # 367 days: 366 is the most
        ({"tenant": "no spaces"}, "tenant"),
        ({"day": "2026-01-01"}, "day"),
    ],
)
async def test_bad_query_is_422(
    api: Api, auth_admin: Headers, params: dict[str, str], field: str
) -> None:
    response = await api.client.get("/v1/usage", params=params, headers=auth_admin)

    body = assert_problem(response, 422, "VALIDATION_ERROR")
    assert [error["loc"] for error in body["errors"]] == [["query", field]]


async def test_a_full_366_day_range_is_allowed(api: Api, auth_a: Headers) -> None:
    body = await usage(api, auth_a, **{"from": "2024-01-01", "to": "2024-12-31"})

    assert len(body["days"]) == 366
    assert date.fromisoformat(body["days"][-1]["date"]) == date(2024, 12, 31)


async def test_openapi_documents_the_query_the_api_reads(api: Api) -> None:
    spec = (await api.client.get("/openapi.json")).json()
    operation = spec["paths"]["/v1/usage"]["get"]

    assert {param["name"] for param in operation["parameters"]} == set(KNOWN)
    assert {"200", "401", "403", "422"} <= set(operation["responses"])
    assert set(spec["components"]["schemas"]["UsageOut"]["properties"]) == {
        "object",
        "tenant_id",
        "from",
        "to",
        "days",
        "totals",
    }
