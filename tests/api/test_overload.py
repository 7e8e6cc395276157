"""Overload answers fast: when every PostgreSQL connection is taken, or the SQLite writer is
stalled with too many writes waiting, a request gets `503 UNAVAILABLE` with `Retry-After` within
a bound (instead of queueing until the client gives up), and succeeds once the load is gone."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

import pg
from api.conftest import Api, Headers, assert_problem, serve
from conftest import BACKENDS
from joblane.core import ids
from joblane.core.batch import NewBatch
from joblane.storage.factory import storage_for
from joblane.storage.sqlite.backend import SqliteStorage

POOL_SIZE = 2
POOL_TIMEOUT = 0.5
MAX_PENDING = 3
BOUND = 1.5  # seconds a refused request may take (the pool timeout, plus scheduling)


@pytest.fixture
async def pg_api() -> AsyncIterator[Api]:
    if "postgres" not in BACKENDS:
        pytest.skip("PostgreSQL is not reachable")
    async with pg.fresh_database() as url:
        storage = storage_for(url, pool_size=POOL_SIZE, pool_timeout=POOL_TIMEOUT)
        await storage.open()
        try:
            async with serve(storage) as api:
                yield api
        finally:
            await storage.close()


@pytest.fixture
async def sqlite_api(tmp_path: Path) -> AsyncIterator[Api]:
    storage = storage_for(f"sqlite:///{tmp_path / 'j.db'}", sqlite_max_pending_writes=MAX_PENDING)
    await storage.open()
    await storage.migrate()
    try:
        async with serve(storage) as api:
            yield api
    finally:
        await storage.close()


async def submit(api: Api, headers: Headers) -> httpx.Response:
    return await api.client.post("/v1/jobs", json={"type": "noop", "input": {}}, headers=headers)


async def assert_503_fast(api: Api, headers: Headers) -> None:
    started = time.monotonic()
    response = await submit(api, headers)
    elapsed = time.monotonic() - started

    assert_problem(response, 503, "UNAVAILABLE")
    assert int(response.headers["retry-after"]) >= 1
    assert elapsed < BOUND, elapsed


async def test_an_exhausted_postgres_pool_answers_503_fast_then_recovers(pg_api: Api) -> None:
    headers = await pg_api.headers_for("tenant-a")
    job = (await submit(pg_api, headers)).json()
    uploads = [  # each open upload holds a pooled connection (and its transaction)
        await pg_api.storage.batch_open(NewBatch(ids.new_id(ids.BATCH), "tenant-a"))
        for _ in range(POOL_SIZE)
    ]
    try:
        await assert_503_fast(pg_api, headers)
        started = time.monotonic()
        read = await pg_api.client.get(f"/v1/jobs/{job['id']}", headers=headers)
        assert_problem(read, 503, "UNAVAILABLE")
        assert time.monotonic() - started < BOUND
    finally:
        for upload in uploads:
            await upload.abort()

    assert (await submit(pg_api, headers)).status_code == 202
    assert (await pg_api.client.get(f"/v1/jobs/{job['id']}", headers=headers)).status_code == 200


async def test_a_stalled_sqlite_writer_refuses_writes_beyond_the_bound_then_recovers(
    sqlite_api: Api,
) -> None:
    storage = sqlite_api.storage
    assert isinstance(storage, SqliteStorage)
    headers = await sqlite_api.headers_for("tenant-a")
    assert (await submit(sqlite_api, headers)).status_code == 202  # lazy first writes done
    blocker = sqlite3.connect(storage.options.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holding the write lock: a stall
    try:
        waiting = [asyncio.create_task(submit(sqlite_api, headers)) for _ in range(MAX_PENDING)]
        for _ in range(200):
            if storage._writer.pending == MAX_PENDING:
                break
            await asyncio.sleep(0.01)
        assert storage._writer.pending == MAX_PENDING

        await assert_503_fast(sqlite_api, headers)
        assert not any(task.done() for task in waiting)  # those queued wait: they are in time
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()

    done = await asyncio.wait_for(asyncio.gather(*waiting), 15)
    assert [response.status_code for response in done] == [202] * MAX_PENDING
    assert (await submit(sqlite_api, headers)).status_code == 202
    listed = await sqlite_api.client.get("/v1/jobs", headers=headers)
    assert len(listed.json()["data"]) == MAX_PENDING + 2  # the refused one left nothing
