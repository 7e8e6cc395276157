"""PostgreSQL for tests: one migrated template database per session, a fresh clone per test.

Runs whenever PostgreSQL is reachable; under `CI=true` an unreachable PostgreSQL is an error,
not a skip. `JOBLANE_TEST_POSTGRES` points at the server (default: local, user postgres).
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import asyncpg

ADMIN_URL = os.environ.get("JOBLANE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
_PREFIX = f"joblane_test_{os.getpid()}"
TEMPLATE = f"{_PREFIX}_tpl"
_counter = itertools.count()


def url_for(database: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"


async def _probe() -> bool:
    try:
        conn = await asyncpg.connect(ADMIN_URL, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


def reachable() -> bool:
    return asyncio.run(_probe())


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def create_template() -> None:
    from joblane.storage.postgres.backend import PostgresStorage
    from joblane.storage.postgres.connection import PostgresOptions

    await _admin(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
    await _admin(f'CREATE DATABASE "{TEMPLATE}"')
    storage = PostgresStorage(PostgresOptions(url_for(TEMPLATE), max_connections=2))
    await storage.open()
    try:
        await storage.migrate()
    finally:
        await storage.close()


async def drop_all() -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        names = await conn.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE $1", f"{_PREFIX}%"
        )
        for row in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')
    finally:
        await conn.close()


def _create_sql(name: str, migrated: bool) -> str:
    template = f' TEMPLATE "{TEMPLATE}"' if migrated else ""
    return f'CREATE DATABASE "{name}"{template}'


@asynccontextmanager
async def fresh_database(*, migrated: bool = True) -> AsyncIterator[str]:
    """A new database (a clone of the migrated template, or empty); dropped afterwards."""
    name = f"{_PREFIX}_{next(_counter)}"
    await _admin(_create_sql(name, migrated))
    try:
        yield url_for(name)
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_database_sync(*, migrated: bool = True) -> Iterator[str]:
    """`fresh_database` for synchronous fixtures."""
    name = f"{_PREFIX}_{next(_counter)}"
    asyncio.run(_admin(_create_sql(name, migrated)))
    try:
        yield url_for(name)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
