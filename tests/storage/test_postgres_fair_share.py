"""PostgreSQL fair share: a job queued while its tenant's cap changes may land in the wrong lane
(its statement read the tenant before the change committed). The claim must still keep the cap
and must not lose the job. SQLite writes one at a time: no job can land there."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

import pg
from conftest import BACKENDS
from factories import new_job
from joblane.core.tenant import Tenant, TenantSettings
from joblane.storage.postgres.backend import PostgresStorage
from joblane.storage.postgres.connection import PostgresOptions

pytestmark = pytest.mark.skipif("postgres" not in BACKENDS, reason="PostgreSQL unreachable")
A = "tenant-a"


@pytest.fixture
async def storage() -> AsyncIterator[tuple[PostgresStorage, asyncpg.Connection]]:
    async with pg.fresh_database() as url:
        backend = PostgresStorage(PostgresOptions(url, max_connections=3))
        await backend.open()
        admin = await asyncpg.connect(url)
        try:
            yield backend, admin
        finally:
            await admin.close()
            await backend.close()


async def test_a_job_left_outside_its_capped_tenants_lane_is_moved_not_claimed(
    storage: tuple[PostgresStorage, asyncpg.Connection],
) -> None:
    backend, admin = storage
    await backend.tenant_put(Tenant(A, "", 0, 0, TenantSettings(max_running=1)))
    await backend.jobs_insert([new_job(A) for _ in range(4)])
    await admin.execute("UPDATE jobs SET capped = false")  # as if queued during the change

    claimed = await backend.jobs_claim("w1", ["noop"], 10, 30.0)
    claimed += await backend.jobs_claim("w2", ["noop"], 10, 30.0)

    assert len(claimed) == 1
    outside = "SELECT count(*) FROM jobs WHERE NOT capped AND state = 'queued'"
    assert await admin.fetchval(outside) == 0  # moved into the lane by the claim that met them
    assert await backend.tenant_running(A) == 1


async def test_a_job_left_in_the_lane_after_its_cap_was_lifted_is_still_claimed(
    storage: tuple[PostgresStorage, asyncpg.Connection],
) -> None:
    backend, admin = storage
    await backend.tenant_put(Tenant(A, "", 0, 0, TenantSettings(max_running=1)))
    await backend.tenant_put(Tenant(A, "", 0, 0, TenantSettings()))
    await backend.jobs_insert([new_job(A) for _ in range(3)])
    await admin.execute("UPDATE jobs SET capped = true")  # as if queued during the change

    assert await backend.jobs_wait_available(["noop"], 0.1)
    claimed = await backend.jobs_claim("w1", ["noop"], 10, 30.0)
    claimed += await backend.jobs_claim("w1", ["noop"], 10, 30.0)

    assert len(claimed) == 3
