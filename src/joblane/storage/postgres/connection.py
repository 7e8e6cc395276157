"""The asyncpg pool: JSON codecs, and every connection failure mapped to `Unavailable`."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, TypeAlias

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy

from joblane.core.errors import Unavailable

log = logging.getLogger("joblane.storage")

# What a restart, a crash or an exhausted pool looks like from here: the API answers 503.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InternalClientError,
    asyncpg.exceptions.ReadOnlySQLTransactionError,  # a failover in progress
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.SerializationError,
)


Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"


@dataclass(frozen=True, slots=True)
class PostgresOptions:
    url: str
    min_connections: int = 1
    max_connections: int = 10
    acquire_timeout: float = 5.0  # an exhausted pool answers 503 after this (pool_timeout)
    command_timeout: float = 30.0


def _encode(value: Any) -> str:
    return orjson.dumps(value).decode()


async def setup_connection(conn: Conn) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, encoder=_encode, decoder=orjson.loads, schema="pg_catalog"
        )


async def _keep_session(conn: Conn) -> None:
    """Pooled connections hold no session state (advisory locks and LISTEN live on their own
    connections), so asyncpg's reset query — a round trip per checkout — is skipped."""


async def create_pool(options: PostgresOptions) -> asyncpg.Pool:
    try:
        pool: asyncpg.Pool = await asyncpg.create_pool(
            options.url,
            min_size=options.min_connections,
            max_size=options.max_connections,
            init=setup_connection,
            command_timeout=options.command_timeout,
            max_inactive_connection_lifetime=60.0,
            reset=_keep_session,
        )
    except CONNECTION_ERRORS as exc:
        log.warning("PostgreSQL unreachable: %s: %s", type(exc).__name__, exc)
        raise Unavailable("the database is unreachable") from exc
    return pool


@contextlib.asynccontextmanager
async def unavailable_on_failure() -> AsyncIterator[None]:
    try:
        yield
    except CONNECTION_ERRORS as exc:
        # the driver's words (addresses, hosts) go to the log, not to API clients
        log.warning("PostgreSQL unavailable: %s: %s", type(exc).__name__, exc)
        raise Unavailable("the database is unavailable; retry shortly") from exc
