"""Rate limits shared through a real Redis (127.0.0.1:6379, or `JOBLANE_TEST_REDIS`): two
limiters (two API processes) spend one budget; the script comes back after `SCRIPT FLUSH`;
with Redis unreachable each process limits on its own, warns once, and returns to Redis.

Each test uses its own key prefix and deletes only its own keys. Under `CI=true` an
unreachable Redis fails these tests; elsewhere they are skipped."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

import redisdb
from joblane.core.clock import FakeClock
from joblane.service.ratelimit import RatePolicy
from joblane.service.ratelimit_redis import SCRIPT_SHA, RedisRateLimiter

SLOW = RatePolicy("write", rate=0.5, burst=5)  # 5 at once, then one every 2 s


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    async with redisdb.connected() as client:
        yield client


@pytest.fixture
async def prefix(redis: Redis) -> AsyncIterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    mine = f"joblane-test:{os.getpid()}:{uuid.uuid4().hex}:"
    yield mine
    await redisdb.delete_matching(redis, f"{mine}*")


@pytest.fixture
async def limiters(prefix: str) -> AsyncIterator[list[RedisRateLimiter]]:
    """Two limiters on the same Redis: what two API processes hold."""
    made = [RedisRateLimiter(redisdb.URL, prefix=prefix) for _ in range(2)]
    try:
        yield made
    finally:
        for limiter in made:
            await limiter.close()


async def test_two_processes_share_one_budget(limiters: list[RedisRateLimiter]) -> None:
    first, second = limiters
    decisions = [await (first if n % 2 else second).acquire("key_a", SLOW) for n in range(7)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 2
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    assert 1.0 < decisions[-1].retry_after <= 2.0  # one unit every 2 s
    assert first.shared and second.shared
    assert (await second.acquire("key_b", SLOW)).allowed  # another key: its own budget


async def test_reads_and_writes_are_separate_budgets(limiters: list[RedisRateLimiter]) -> None:
    first, second = limiters
    for _ in range(5):
        assert (await first.acquire("key_a", SLOW)).allowed
    reads = RatePolicy("read", rate=0.5, burst=5)
    assert (await second.acquire("key_a", reads)).allowed


async def test_a_refund_in_one_process_is_seen_by_the_other(
    limiters: list[RedisRateLimiter],
) -> None:
    first, second = limiters
    for _ in range(5):
        await first.acquire("key_a", SLOW)
    assert not (await first.acquire("key_a", SLOW)).allowed
    await second.refund("key_a", SLOW)
    assert (await first.acquire("key_a", SLOW)).allowed
    assert not (await second.acquire("key_a", SLOW)).allowed


async def test_keys_expire_once_their_budget_is_full_again(
    limiters: list[RedisRateLimiter], redis: Redis, prefix: str
) -> None:
    await limiters[0].acquire("key_a", SLOW)
    ttl_ms = await redis.pttl(f"{prefix}write:key_a")
    assert 0 < ttl_ms <= 2000  # one unit spent: full again (and gone) after 2 s


async def test_the_script_is_loaded_again_after_script_flush(
    limiters: list[RedisRateLimiter], redis: Redis
) -> None:
    first, _ = limiters
    assert (await first.acquire("key_a", SLOW)).remaining == 4
    await redis.script_flush()
    assert await redis.script_exists(SCRIPT_SHA) == [False]
    assert (await first.acquire("key_a", SLOW)).remaining == 3  # same budget, not fallback
    assert first.shared
    assert await redis.script_exists(SCRIPT_SHA) == [True]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_an_unreachable_redis_falls_back_to_limits_in_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    url = f"redis://127.0.0.1:{closed_port()}/0"
    limiter = RedisRateLimiter(url, clock=clock, retry_seconds=5, warn_seconds=60)
    try:
        with caplog.at_level(logging.WARNING, logger="joblane.ratelimit"):
            decisions = [await limiter.acquire("key_a", SLOW) for _ in range(6)]
            assert [d.allowed for d in decisions] == [True] * 5 + [False]
            assert not limiter.shared
            clock.advance(5)  # tried again (still down): no second warning within a minute
            assert (await limiter.acquire("key_a", SLOW)).remaining == 1  # 2.5 units back
            assert not limiter.shared
            clock.advance(60)
            await limiter.acquire("key_a", SLOW)
        warnings = [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()]
        assert len(warnings) == 2, warnings
        assert f"127.0.0.1:{url.rsplit(':', 1)[1]}" in warnings[0]
    finally:
        await limiter.close()


class Outage:
    """A TCP proxy in front of Redis: `cut()` drops it and every connection, `restore()`
    listens again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def restore(self) -> None:
        self._server = await asyncio.start_server(self._connect, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        self._writers.clear()
        await self._server.wait_closed()

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers += [writer, up_writer]
        await asyncio.gather(
            _pipe(reader, up_writer), _pipe(up_reader, writer), return_exceptions=True
        )


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def test_limits_are_shared_again_once_redis_is_back(
    redis: Redis, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    host = redis.connection_pool.connection_kwargs.get("host", "127.0.0.1")
    port = redis.connection_pool.connection_kwargs.get("port", 6379)
    outage = Outage((host, port))
    await outage.restore()
    clock = FakeClock()
    url = f"redis://127.0.0.1:{outage.port}/0"
    limiter = RedisRateLimiter(url, prefix=prefix, clock=clock, retry_seconds=5)
    try:
        assert (await limiter.acquire("key_a", SLOW)).remaining == 4
        await outage.cut()
        with caplog.at_level(logging.INFO, logger="joblane.ratelimit"):
            assert (await limiter.acquire("key_a", SLOW)).remaining == 4  # its own budget
            assert not limiter.shared
            await outage.restore()
            await limiter.acquire("key_a", SLOW)
            assert not limiter.shared  # not retried before retry_seconds
            clock.advance(5)
            assert (await limiter.acquire("key_a", SLOW)).remaining == 3  # Redis's budget
            assert limiter.shared
        assert any("is back" in record.getMessage() for record in caplog.records)
    finally:
        await limiter.close()
        await outage.cut()
