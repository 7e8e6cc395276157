"""`Batcher`: concurrent items share one write; a bad item fails alone; an outage fails all."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from joblane.core.batching import Batcher
from joblane.core.errors import Unavailable


class Store:
    def __init__(self) -> None:
        self.calls: list[list[int]] = []
        self.down = False

    async def write(self, items: Sequence[int]) -> list[int]:
        self.calls.append(list(items))
        await asyncio.sleep(0.01)
        if self.down:
            raise Unavailable("down")
        if any(item < 0 for item in items):
            raise ValueError("negative")
        return [item * 10 for item in items]


async def test_concurrent_items_share_a_write() -> None:
    store = Store()
    batcher: Batcher[int, int] = Batcher(store.write, shared_failures=(Unavailable,))

    results = await asyncio.gather(*(batcher.submit(n) for n in range(1, 6)))

    assert results == [10, 20, 30, 40, 50]
    assert len(store.calls) <= 2


async def test_a_bad_item_fails_alone() -> None:
    store = Store()
    batcher: Batcher[int, int] = Batcher(store.write, shared_failures=(Unavailable,))

    results = await asyncio.gather(*(batcher.submit(n) for n in (1, -2, 3)), return_exceptions=True)

    assert results[0] == 10 and results[2] == 30
    assert isinstance(results[1], ValueError)


async def test_an_outage_fails_every_item_without_retrying_one_by_one() -> None:
    store = Store()
    store.down = True
    batcher: Batcher[int, int] = Batcher(store.write, shared_failures=(Unavailable,))

    results = await asyncio.gather(*(batcher.submit(n) for n in (1, 2, 3)), return_exceptions=True)

    assert all(isinstance(r, Unavailable) for r in results)
    assert sum(len(call) for call in store.calls) == 3
    with pytest.raises(Unavailable):
        await batcher.submit(4)
