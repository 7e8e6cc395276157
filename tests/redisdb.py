"""Redis for tests: the real server at 127.0.0.1:6379 (or `JOBLANE_TEST_REDIS`). Under
`CI=true` an unreachable Redis fails the tests that need it; elsewhere they are skipped."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

URL = os.environ.get("JOBLANE_TEST_REDIS", "redis://127.0.0.1:6379/0")


@asynccontextmanager
async def connected() -> AsyncIterator[Redis]:
    client = Redis.from_url(URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but Redis is unreachable at {URL}: {exc}")
        pytest.skip(f"Redis is unreachable at {URL}: {exc}")
    try:
        yield client
    finally:
        await client.aclose()


async def delete_matching(client: Redis, pattern: str) -> None:
    keys = [key async for key in client.scan_iter(match=pattern)]
    if keys:
        await client.delete(*keys)
