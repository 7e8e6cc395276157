"""Long-poll support: wait until a job's (or a batch's) version changes, for many waiters.

One poller per process asks storage for the versions of every watched id in one query, so a
thousand waiting clients cost one query per tick, not a thousand.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence

Versions = Callable[[Sequence[str]], Awaitable[dict[str, int]]]


class ChangeFeed:
    def __init__(self, versions: Versions, interval: float = 0.05) -> None:
        self._versions = versions
        self._interval = interval
        self._waiters: dict[str, list[tuple[int, asyncio.Future[None]]]] = defaultdict(list)
        self._poller: asyncio.Task[None] | None = None

    async def wait_for_change(self, job_id: str, version: int, timeout: float) -> bool:
        """True once `job_id` has a version other than `version` (or is gone); False on timeout.
        (`job_id` is whatever id the feed's `versions` function knows: jobs or batches.)"""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (version, future)
        self._waiters[job_id].append(entry)
        self._ensure_poller()
        try:
            await asyncio.wait_for(asyncio.shield(future), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self._forget(job_id, entry)

    def notify(self, job_id: str, version: int) -> None:
        for known, future in self._waiters.get(job_id, ()):
            if known != version and not future.done():
                future.set_result(None)

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller

    def _forget(self, job_id: str, entry: tuple[int, asyncio.Future[None]]) -> None:
        waiters = self._waiters.get(job_id)
        if waiters is not None:
            with contextlib.suppress(ValueError):
                waiters.remove(entry)
            if not waiters:
                del self._waiters[job_id]

    def _ensure_poller(self) -> None:
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll(), name="joblane-change-feed")

    async def _poll(self) -> None:
        while self._waiters:
            await asyncio.sleep(self._interval)
            ids = list(self._waiters)
            try:
                versions = await self._versions(ids)
            except Exception:  # storage hiccup: waiters time out or the next tick succeeds
                continue
            for job_id in ids:
                self.notify(job_id, versions.get(job_id, -1))
