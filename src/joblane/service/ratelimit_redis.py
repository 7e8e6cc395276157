"""Rate limits shared by every API process through Redis: the GCRA of `ratelimit.py` as one
Lua script (one EVALSHA round trip per request, times from the Redis clock so processes on
different hosts agree). An API must not go down with Redis: while it is unreachable, each
process limits on its own (in-process store), warns now and then, and tries Redis again
every `retry_seconds`."""

from __future__ import annotations

import hashlib
import logging
import math
from urllib.parse import urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError, RedisError

from joblane.core.clock import Clock, SystemClock
from joblane.service.ratelimit import (
    MemoryRateLimiter,
    RateDecision,
    RateLimiter,
    RatePolicy,
    decide,
)

log = logging.getLogger("joblane.ratelimit")

# KEYS[1]: the key. ARGV: interval µs, tolerance (burst * interval) µs, "acquire" | "refund".
# Returns {allowed, TAT - now in µs}. TIME in a script needs effects replication (Redis >= 5).
SCRIPT = """
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
if ARGV[3] == 'refund' then
  tat = tat - interval
  if tat <= now then
    redis.call('DEL', KEYS[1])
    return {1, 0}
  end
else
  if tat + interval - now > tolerance then
    return {0, tat - now}
  end
  tat = tat + interval
end
redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000))
return {1, tat - now}
"""
SCRIPT_SHA = hashlib.sha1(SCRIPT.encode()).hexdigest()


class RedisRateLimiter:
    def __init__(
        self,
        url: str,
        *,
        prefix: str = "joblane:rl:",
        clock: Clock | None = None,
        fallback: RateLimiter | None = None,
        timeout: float = 0.5,
        connect_timeout: float = 1.0,
        max_connections: int = 32,
        retry_seconds: float = 5.0,
        warn_seconds: float = 60.0,
    ) -> None:
        # A blocking pool: a burst of requests waits (up to `timeout`) for a connection,
        # instead of failing over to in-process limits for lack of one.
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=timeout,
            socket_timeout=timeout,
            socket_connect_timeout=connect_timeout,
            retry=Retry(NoBackoff(), 0),  # a request must not wait on reconnects
        )
        self._redis = Redis.from_pool(pool)
        self._where = _redacted(url)
        self._prefix = prefix
        self._clock = clock or SystemClock()
        self._fallback = fallback or MemoryRateLimiter(self._clock)
        self._retry_seconds = retry_seconds
        self._warn_seconds = warn_seconds
        self._down_until: float | None = None
        self._warned_at = -math.inf
        self._outage_logged = False

    @property
    def shared(self) -> bool:
        """False while requests are limited in-process because Redis is unreachable."""
        return self._down_until is None

    async def acquire(self, key: str, policy: RatePolicy) -> RateDecision:
        reply = await self._run(key, policy, "acquire")
        if reply is None:
            return await self._fallback.acquire(key, policy)
        return decide(policy, bool(reply[0]), int(reply[1]))

    async def refund(self, key: str, policy: RatePolicy) -> None:
        if await self._run(key, policy, "refund") is None:
            await self._fallback.refund(key, policy)

    async def close(self) -> None:
        await self._redis.aclose()
        await self._fallback.close()

    async def _run(self, key: str, policy: RatePolicy, mode: str) -> list[int] | None:
        now = self._clock.now()
        if self._down_until is not None:
            if now < self._down_until:
                return None
            self._down_until = now + self._retry_seconds  # one probe at a time
        args = (f"{self._prefix}{policy.name}:{key}", policy.interval_us, policy.tolerance_us, mode)
        try:
            reply = await self._evalsha(*args)
        except (RedisError, OSError) as exc:
            self._went_down(now, exc)
            return None
        if self._down_until is not None:
            self._down_until = None
            if self._outage_logged:
                self._outage_logged = False
                log.info("redis at %s is back: rate limits are shared again", self._where)
        return reply

    async def _evalsha(self, key: str, *args: int | str) -> list[int]:
        try:
            reply: list[int] = await self._redis.evalsha(SCRIPT_SHA, 1, key, *args)
        except NoScriptError:  # a restarted or flushed Redis: load the script again
            await self._redis.script_load(SCRIPT)
            reply = await self._redis.evalsha(SCRIPT_SHA, 1, key, *args)
        return reply

    def _went_down(self, now: float, exc: Exception) -> None:
        self._down_until = now + self._retry_seconds
        if now - self._warned_at >= self._warn_seconds:
            self._warned_at = now
            self._outage_logged = True
            log.warning(
                "redis at %s is unreachable (%s): rate limits are per process until it is back",
                self._where,
                exc,
            )


def _redacted(url: str) -> str:
    """The URL without its password, for logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
