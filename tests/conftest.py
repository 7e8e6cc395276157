"""Shared fixtures. `storage` runs against every backend that is available here."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

import pg
from joblane.core.principal import ADMIN, READ, WRITE, Principal
from joblane.storage.base import Storage
from joblane.storage.sqlite.backend import SqliteStorage
from joblane.storage.sqlite.connection import SqliteOptions

BACKENDS = ["sqlite"]
if pg.reachable():
    BACKENDS.append("postgres")
elif os.environ.get("CI") == "true":
    raise RuntimeError(f"CI=true but PostgreSQL is unreachable at {pg.ADMIN_URL}")


@pytest.fixture(scope="session", autouse=True)
def postgres_template() -> Iterator[None]:
    if "postgres" in BACKENDS:
        asyncio.run(pg.create_template())
    yield
    if "postgres" in BACKENDS:
        asyncio.run(pg.drop_all())


@pytest.fixture(params=BACKENDS)
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    if request.param == "postgres":
        from joblane.storage.postgres.backend import PostgresStorage
        from joblane.storage.postgres.connection import PostgresOptions

        async with pg.fresh_database() as url:
            backend: Storage = PostgresStorage(PostgresOptions(url, max_connections=5))
            await backend.open()
            try:
                yield backend
            finally:
                await backend.close()
        return
    backend = SqliteStorage(SqliteOptions(str(tmp_path / "joblane.db")))
    await backend.open()
    await backend.migrate()
    try:
        yield backend
    finally:
        await backend.close()


@pytest.fixture
def tenant_a() -> Principal:
    return Principal("tenant-a", frozenset({READ, WRITE}), "key_a")


@pytest.fixture
def tenant_b() -> Principal:
    return Principal("tenant-b", frozenset({READ, WRITE}), "key_b")


@pytest.fixture
def admin() -> Principal:
    return Principal("ops", frozenset({ADMIN}), "key_admin")
