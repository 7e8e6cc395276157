"""Choose the backend from the database URL."""

from __future__ import annotations

from joblane.storage.base import Storage
from joblane.storage.sqlite.connection import Synchronous


def storage_for(
    url: str,
    *,
    pool_size: int = 10,
    sqlite_synchronous: Synchronous = "FULL",
    pool_timeout: float = 2.0,
    sqlite_max_pending_writes: int = 2000,
) -> Storage:
    if url.startswith(("postgresql://", "postgres://")):
        from joblane.storage.postgres.backend import PostgresStorage
        from joblane.storage.postgres.connection import PostgresOptions

        options = PostgresOptions(url, max_connections=pool_size, acquire_timeout=pool_timeout)
        return PostgresStorage(options)
    if url.startswith("sqlite:///"):
        from joblane.storage.sqlite.backend import SqliteStorage
        from joblane.storage.sqlite.connection import SqliteOptions

        path = url.removeprefix("sqlite:///")
        return SqliteStorage(
            SqliteOptions(
                path,
                synchronous=sqlite_synchronous,
                max_pending_writes=sqlite_max_pending_writes,
            )
        )
    raise ValueError(f"unsupported database URL: {url!r}")
