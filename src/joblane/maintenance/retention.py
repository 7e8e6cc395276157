"""Retention, run by the maintenance leader: purge finished jobs and settled batches older than
their tenant's retention, and the tombstones of purged ids once they are old enough.

Work goes in small chunks (one short write each) with a pause after every chunk of at least
`pause_ratio` times what the chunk took, so purging holds SQLite's single writer (or row locks
on PostgreSQL) for a bounded share of the time; each run stops at its `budget`. A run that
stopped with work left makes the next tick run again, so a backlog of a million expired jobs
drains over minutes while submissions and claims go on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from joblane.core.retention import (
    DAY,
    DEFAULT_RETENTION_DAYS,
    DEFAULT_TOMBSTONE_DAYS,
    Cutoffs,
    cutoffs,
)
from joblane.storage.base import Storage

log = logging.getLogger("joblane.maintenance")

BATCHES_PER_CHUNK = 50  # batch rows are small: the items are what takes chunks


@dataclass(frozen=True, slots=True)
class RetentionSettings:
    days: int = DEFAULT_RETENTION_DAYS  # the server default; a tenant's own setting wins
    tombstone_days: int = DEFAULT_TOMBSTONE_DAYS
    chunk: int = 500  # rows per write
    pause: float = 0.05  # seconds after each chunk, at least…
    pause_ratio: float = 2.0  # …and at least this many times what the chunk took
    budget: float = 2.0  # seconds of purging per run
    every: int = 12  # ticks between runs once nothing is left over


@dataclass(frozen=True, slots=True)
class Purged:
    jobs: int = 0
    batches: int = 0
    batch_items: int = 0
    tombstones: int = 0
    done: bool = True  # False: the budget ran out with work left

    @property
    def anything(self) -> bool:
        return any((self.jobs, self.batches, self.batch_items, self.tombstones))


Step = Callable[[], Awaitable[int]]


class Retention:
    def __init__(
        self,
        storage: Storage,
        settings: RetentionSettings | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.storage = storage
        self.settings = settings or RetentionSettings()
        self._clock = clock or storage.now
        self._ticks = 0
        self._behind = False

    async def tick(self) -> Purged | None:
        """Run every `every` ticks, or on every tick while a backlog is left."""
        due = self._behind or self._ticks % self.settings.every == 0
        self._ticks += 1
        if not due:
            return None
        purged = await self.run()
        self._behind = not purged.done
        return purged

    async def run(self) -> Purged:
        now = self._clock()
        limits = await self._cutoffs(now)
        tombstones_before = now - self.settings.tombstone_days * DAY
        chunk = self.settings.chunk
        steps: dict[str, tuple[Step, int]] = {
            "jobs": (lambda: self.storage.jobs_expire(limits, chunk), chunk),
            "batches": (lambda: self._expire_batches(limits), BATCHES_PER_CHUNK),
            "batch_items": (lambda: self.storage.batch_items_purge(chunk), chunk),
            "tombstones": (lambda: self.storage.tombstones_purge(tombstones_before, chunk), chunk),
        }
        counts = await self._drain(steps)
        purged = Purged(**counts, done=not steps)
        if purged.anything:
            log.info(
                "retention: purged %d jobs, %d batches (%d items), %d tombstones%s",
                purged.jobs,
                purged.batches,
                purged.batch_items,
                purged.tombstones,
                "" if purged.done else "; more left for the next tick",
            )
        return purged

    async def _cutoffs(self, now: float) -> Cutoffs:
        return cutoffs(await self.storage.tenants_list(), now, self.settings.days)

    async def _expire_batches(self, limits: Cutoffs) -> int:
        expired = await self.storage.batches_expire(limits, BATCHES_PER_CHUNK)
        for batch_id in expired:
            log.info("retention: batch %s expired; its items follow", batch_id)
        return len(expired)

    async def _drain(self, steps: dict[str, tuple[Step, int]]) -> dict[str, int]:
        """Rounds of one chunk of each unfinished step until all are done or the budget is
        spent (one round at least); a step is done, and leaves `steps`, when a chunk comes back
        short."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.budget
        counts = dict.fromkeys(steps, 0)
        while steps:
            for name, (step, limit) in list(steps.items()):
                started = loop.time()
                count = await step()
                counts[name] += count
                if count < limit:
                    del steps[name]
                if count:
                    took = loop.time() - started
                    await asyncio.sleep(max(self.settings.pause, took * self.settings.pause_ratio))
            if loop.time() >= deadline:
                break
        return counts
