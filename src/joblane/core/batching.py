"""Many callers, one storage call: what arrives while a write is in flight goes in the next one.

Under load every call carries hundreds of items (claims and outcomes of many jobs share a
statement and a commit); when idle, an item is written at once, with no added delay.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    def __init__(
        self,
        write: Callable[[Sequence[T]], Awaitable[Sequence[R]]],
        max_batch: int = 500,
        shared_failures: tuple[type[Exception], ...] = (),
    ) -> None:
        """`shared_failures`: errors that would fail every item alike (an outage): those are
        not retried item by item."""
        self._write = write
        self._max_batch = max_batch
        self._shared_failures = shared_failures
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_all(), name="joblane-batcher")
        return await future

    async def _flush_all(self) -> None:
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            try:
                results = await self._write([item for item, _ in batch])
            except Exception as exc:
                if len(batch) == 1 or isinstance(exc, self._shared_failures):
                    _fail(batch, exc)
                else:  # one bad item must not sink the others: write them one by one
                    for item, future in batch:
                        await self._write_one(item, future)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def _write_one(self, item: T, future: asyncio.Future[R]) -> None:
        try:
            (result,) = await self._write([item])
        except Exception as exc:
            _fail([(item, future)], exc)
        else:
            if not future.done():
                future.set_result(result)


def _fail(batch: Sequence[tuple[Any, asyncio.Future[Any]]], exc: Exception) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(exc)
