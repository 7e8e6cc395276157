"""Removing artifact files nobody references any more, run by the maintenance leader.

Deleting a job (by a user, by retention, with its batch), replacing a file with a later
write, and abandoning a failed write each put the file's path in the garbage queue, in the
transaction of that change. This sweep removes the files, then their queue rows: a crash in
between only means the next run removes them again (already gone is fine), so no file is
left behind for good, and the database writes that delete jobs never wait for the store.
"""

from __future__ import annotations

import asyncio
import logging

from joblane.service.artifact_store import ArtifactStore
from joblane.storage.base import Storage

log = logging.getLogger("joblane.maintenance")


class ArtifactSweep:
    def __init__(
        self,
        storage: Storage,
        store: ArtifactStore,
        chunk: int = 200,
        budget: float = 1.0,
        every: int = 12,
    ) -> None:
        self.storage = storage
        self.store = store
        self.chunk = chunk
        self.budget = budget  # seconds per run: the rest waits for the next tick
        self.every = every  # ticks between looks at an empty queue (an idle leader's queries)
        self._ticks = 0
        self._behind = False

    async def tick(self, nudged: bool = False) -> int:
        """Run every `every` ticks; at once when `nudged` (retention just purged jobs), and on
        every tick while the last run found files (more may be queued)."""
        due = nudged or self._behind or self._ticks % self.every == 0
        self._ticks += 1
        if not due:
            return 0
        removed = await self.run()
        self._behind = removed > 0
        return removed

    async def run(self) -> int:
        """Remove queued files chunk by chunk until the queue is empty or the budget is
        spent; how many were removed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.budget
        removed = 0
        while loop.time() < deadline:
            garbage = await self.storage.artifact_garbage(self.chunk)
            if not garbage:
                break
            done = await asyncio.to_thread(self._remove, garbage)
            if done:
                await self.storage.artifact_garbage_done(done)
            removed += len(done)
            if len(garbage) < self.chunk or len(done) < len(garbage):
                break  # the queue is drained, or the store refuses: try again next tick
        if removed:
            log.info("artifacts: removed %d files", removed)
        return removed

    def _remove(self, garbage: list[tuple[int, str]]) -> list[int]:
        done = []
        for queued, path in garbage:
            try:
                self.store.remove(path)
            except Exception as exc:
                log.warning("artifacts: could not remove %s (kept for the next run): %s", path, exc)
                continue
            done.append(queued)
        return done
