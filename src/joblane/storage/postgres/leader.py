"""Leadership through session advisory locks, each holder on its own connection: the lock
lives exactly as long as the holder's connection, so a dead leader frees it at once."""

from __future__ import annotations

import contextlib

import asyncpg

from joblane.storage.sqlfiles import load_positional

Q = load_positional("joblane.storage.postgres")


class Leadership:
    def __init__(self, url: str) -> None:
        self._url = url
        self._held: dict[tuple[str, str], asyncpg.Connection] = {}

    async def acquire(self, name: str, holder: str) -> bool:
        key = (name, holder)
        conn = self._held.get(key)
        if conn is not None and not conn.is_closed():
            return True  # still ours: the lock lives with this connection
        self._held.pop(key, None)
        conn = await asyncpg.connect(self._url)
        q = Q["leader_try"]
        try:
            got = bool(await conn.fetchval(q.sql, *q.args({"name": name})))
        except BaseException:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._held[key] = conn
        return True

    async def release(self, name: str, holder: str) -> None:
        conn = self._held.pop((name, holder), None)
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)  # closing the session releases the lock

    async def close(self) -> None:
        for name, holder in list(self._held):
            await self.release(name, holder)
