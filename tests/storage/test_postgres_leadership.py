"""PostgreSQL leadership: a session advisory lock that ends with its holder's connection."""

from __future__ import annotations

import asyncpg
import pytest

import pg
from conftest import BACKENDS
from joblane.storage.postgres.backend import PostgresStorage
from joblane.storage.postgres.connection import PostgresOptions

pytestmark = pytest.mark.skipif("postgres" not in BACKENDS, reason="PostgreSQL unreachable")


async def test_a_dead_leaders_lock_is_taken_over_at_once() -> None:
    async with pg.fresh_database() as url:
        leader, follower = (PostgresStorage(PostgresOptions(url)) for _ in range(2))
        await leader.open()
        await follower.open()
        try:
            assert await leader.leader_acquire("maintenance", "node-a", 5.0)
            assert not await follower.leader_acquire("maintenance", "node-b", 5.0)

            admin = await asyncpg.connect(url)
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l "
                "JOIN pg_database d ON d.oid = l.database "  # pg_locks spans every database
                "WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()"
            )
            await admin.close()

            assert killed == 1
            assert await follower.leader_acquire("maintenance", "node-b", 5.0)
            assert not await leader.leader_acquire("maintenance", "node-a", 5.0)
        finally:
            await leader.close()
            await follower.close()
