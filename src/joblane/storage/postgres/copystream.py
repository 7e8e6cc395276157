"""One COPY that rows are fed into while it runs.

A batch upload arrives in chunks over seconds. Sending each chunk as its own COPY makes the
server wait while the next chunk is parsed and the parser wait while the server inserts; one
COPY fed from a short queue keeps both busy: rows are encoded and sent as chunks arrive, and
PostgreSQL inserts them meanwhile. A full queue makes `send` wait (back-pressure).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import Any

from joblane.storage.postgres.connection import Conn

Rows = Sequence[tuple[Any, ...]]


class CopyStream:
    def __init__(self, conn: Conn, table: str, columns: Sequence[str], depth: int = 2) -> None:
        self._chunks: asyncio.Queue[Rows | None] = asyncio.Queue(depth)
        self._copy = asyncio.ensure_future(
            conn.copy_records_to_table(table, records=self._rows(), columns=list(columns))
        )

    async def _rows(self) -> AsyncIterator[tuple[Any, ...]]:
        while (chunk := await self._chunks.get()) is not None:
            for row in chunk:
                yield row

    async def send(self, rows: Rows) -> None:
        """Queue rows for the COPY; raises the COPY's error if it has failed."""
        await self._put(rows)

    async def finish(self) -> None:
        """End the COPY and wait until the server has every row (raises its error)."""
        await self._put(None)
        await self._copy

    async def cancel(self) -> None:
        """Abort the COPY (the server is told it failed); the transaction must roll back."""
        self._copy.cancel()
        with contextlib.suppress(BaseException):
            await self._copy

    async def _put(self, item: Rows | None) -> None:
        if self._copy.done():
            await self._copy  # raises why it ended
            raise RuntimeError("the COPY is over")
        if not self._chunks.full():
            self._chunks.put_nowait(item)
            return
        await self._until_copy_ends(self._chunks.put(item))

    async def _until_copy_ends(self, put: Awaitable[None]) -> None:
        putting = asyncio.ensure_future(put)
        try:
            await asyncio.wait({putting, self._copy}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not putting.done():
                putting.cancel()
        if not putting.done() or putting.cancelled():
            await self._copy
            raise RuntimeError("the COPY ended before its rows were all sent")
