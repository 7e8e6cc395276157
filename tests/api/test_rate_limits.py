"""Rate limits per API key over HTTP: 429 `RATE_LIMITED` with `Retry-After`; `RateLimit-Policy`
and `RateLimit` on every response of an authenticated request; a 304 poll costs nothing;
reads and writes have separate budgets; other keys and tenants are unaffected."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest

import apps
from api.conftest import SETTINGS, UNKNOWN_ID, Api, Headers, assert_problem
from joblane.api.app import create_app
from joblane.api.context import ApiContext
from joblane.api.ratelimit import RateLimits
from joblane.core.clock import FakeClock
from joblane.core.principal import READ, WRITE
from joblane.server import rate_limits
from joblane.service.batches import BatchService
from joblane.service.changes import ChangeFeed
from joblane.service.jobs import JobService
from joblane.service.keys import KeyService
from joblane.service.ratelimit import MemoryRateLimiter, RatePolicies, RatePolicy
from joblane.service.ratelimit_redis import RedisRateLimiter
from joblane.settings import Settings
from joblane.storage.base import Storage

READS = RatePolicy("read", rate=1.0, burst=3)
WRITES = RatePolicy("write", rate=0.5, burst=2)  # 2 at once, then one every 2 s


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@contextlib.asynccontextmanager
async def serve_limited(storage: Storage, limits: RateLimits) -> AsyncIterator[Api]:
    """The app as `tests/api/conftest.serve` wires it, plus rate limits."""
    changes = ChangeFeed(storage.jobs_versions)
    batch_changes = ChangeFeed(storage.batches_versions, interval=0.05)
    jobs = JobService(storage, apps.app, changes)
    keys = KeyService(storage)
    batches = BatchService(storage, apps.app, batch_changes, max_items=100_000)
    app = create_app(ApiContext(storage, jobs, keys, SETTINGS, batches, limits=limits))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Api(client, storage, apps.app, changes, jobs, keys, batches)
    finally:
        await changes.close()
        await batch_changes.close()


@pytest.fixture
async def api(storage: Storage, clock: FakeClock) -> AsyncIterator[Api]:
    policies = RatePolicies(READS, WRITES)
    async with serve_limited(storage, RateLimits(MemoryRateLimiter(clock), policies)) as built:
        yield built


def limits_of(response: httpx.Response) -> tuple[str, str]:
    return response.headers["ratelimit-policy"], response.headers["ratelimit"]


async def submit(api: Api, headers: Headers) -> httpx.Response:
    return await api.client.post("/v1/jobs", json={"type": "noop", "input": {}}, headers=headers)


async def test_over_the_write_rate_is_429_rate_limited_with_retry_after(
    api: Api, auth_a: Headers, clock: FakeClock
) -> None:
    accepted = [await submit(api, auth_a) for _ in range(2)]
    refused = await submit(api, auth_a)

    assert [r.status_code for r in accepted] == [202, 202]
    assert [limits_of(r)[1] for r in accepted] == ['"write";r=1;t=2', '"write";r=0;t=4']
    body = assert_problem(refused, 429, "RATE_LIMITED", detail="retry in 2 s")
    assert body["details"] == {"policy": "write", "retry_after": 2}
    assert refused.headers["retry-after"] == "2"
    assert limits_of(refused) == ('"write";q=2;w=4', '"write";r=0;t=2')

    clock.advance(2)  # as Retry-After said
    assert (await submit(api, auth_a)).status_code == 202


async def test_every_response_of_an_authenticated_request_carries_the_fields(
    api: Api, auth_a: Headers
) -> None:
    created = await submit(api, auth_a)
    url = f"/v1/jobs/{created.json()['id']}"
    ok = await api.client.get(url, headers=auth_a)
    not_modified = await api.client.get(url, headers={**auth_a, "If-None-Match": '"1"'})
    missing = await api.client.get(f"/v1/jobs/{UNKNOWN_ID}", headers=auth_a)
    invalid = await api.client.post("/v1/jobs", json={"type": "noop"}, headers=auth_a)
    await api.client.get(url, headers=auth_a)
    limited = await api.client.get(url, headers=auth_a)

    statuses = [r.status_code for r in (created, ok, not_modified, missing, invalid, limited)]
    assert statuses == [202, 200, 304, 404, 422, 429]
    assert limits_of(created) == ('"write";q=2;w=4', '"write";r=1;t=2')
    assert limits_of(ok) == ('"read";q=3;w=3', '"read";r=2;t=1')
    assert limits_of(not_modified) == ('"read";q=3;w=3', '"read";r=2;t=1')  # nothing spent
    assert limits_of(missing) == ('"read";q=3;w=3', '"read";r=1;t=2')
    assert limits_of(invalid) == ('"write";q=2;w=4', '"write";r=0;t=4')
    assert limits_of(limited) == ('"read";q=3;w=3', '"read";r=0;t=1')
    assert limited.headers["retry-after"] == "1"


async def test_requests_without_a_valid_key_are_not_limited_and_carry_no_fields(
    api: Api,
) -> None:
    for _ in range(10):
        response = await api.client.get(f"/v1/jobs/{UNKNOWN_ID}")
        assert_problem(response, 401, "UNAUTHORIZED")
        assert "ratelimit" not in response.headers


async def test_a_304_poll_costs_nothing(api: Api, auth_a: Headers) -> None:
    job = (await submit(api, auth_a)).json()
    url = f"/v1/jobs/{job['id']}"
    conditional = {**auth_a, "If-None-Match": f'"{job["version"]}"'}

    polls = [await api.client.get(url, headers=conditional) for _ in range(20)]
    full = [await api.client.get(url, headers=auth_a) for _ in range(4)]

    assert {r.status_code for r in polls} == {304}
    assert {limits_of(r)[1] for r in polls} == {'"read";r=3;t=0'}
    assert [r.status_code for r in full] == [200, 200, 200, 429]


async def test_reads_and_writes_are_limited_separately(api: Api, auth_a: Headers) -> None:
    job = (await submit(api, auth_a)).json()
    assert (await submit(api, auth_a)).status_code == 202
    assert (await submit(api, auth_a)).status_code == 429  # writes spent
    reads = [await api.client.get(f"/v1/jobs/{job['id']}", headers=auth_a) for _ in range(4)]
    assert [r.status_code for r in reads] == [200, 200, 200, 429]  # reads had their own
    cancel = await api.client.post(f"/v1/jobs/{job['id']}/cancel", headers=auth_a)
    assert_problem(cancel, 429, "RATE_LIMITED")  # an action is a write


async def test_other_keys_and_tenants_are_unaffected(
    api: Api, auth_a: Headers, auth_b: Headers
) -> None:
    other_key_same_tenant = await api.headers_for("tenant-a", READ, WRITE)
    for _ in range(2):
        await submit(api, auth_a)
    assert (await submit(api, auth_a)).status_code == 429
    assert (await submit(api, auth_b)).status_code == 202
    assert (await submit(api, other_key_same_tenant)).status_code == 202


async def test_a_tenants_own_settings_override_the_server_defaults(api: Api) -> None:
    await api.keys.tenants.create("vip", "VIP", {"write_burst": 5, "read_rate": 100.0})
    vip = await api.headers_for("vip", READ, WRITE)
    statuses = [(await submit(api, vip)).status_code for _ in range(6)]
    read = await api.client.get(f"/v1/jobs/{UNKNOWN_ID}", headers=vip)
    assert statuses == [202] * 5 + [429]
    assert limits_of(read)[0] == '"read";q=3;w=1'  # its rate, the server's burst


async def test_settings_build_in_process_limits_or_redis_ones() -> None:
    settings = Settings(rate_read=20, rate_read_burst=40, rate_write=3, rate_write_burst=6)
    limits = rate_limits(settings)
    assert isinstance(limits.limiter, MemoryRateLimiter)
    assert (limits.policies.read, limits.policies.write) == (
        RatePolicy("read", 20, 40),
        RatePolicy("write", 3, 6),
    )
    shared = rate_limits(Settings(redis_url="redis://127.0.0.1:6379/0"))
    assert isinstance(shared.limiter, RedisRateLimiter)
    assert (shared.policies.read, shared.policies.write) == (
        RatePolicy("read", 50, 100),  # the documented defaults
        RatePolicy("write", 10, 20),
    )
    await shared.aclose()
