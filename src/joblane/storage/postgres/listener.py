"""LISTEN for new jobs on a dedicated connection; reconnects by itself.

`generation` counts notifications (and reconnects, after which anything may have been missed),
so a worker can tell, without a query, whether something arrived since its last claim began.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg

from joblane.storage.postgres.connection import CONNECTION_ERRORS

log = logging.getLogger("joblane.storage")
CHANNEL = "joblane_jobs"


class Listener:
    def __init__(self, url: str) -> None:
        self._url = url
        self.generation = 0
        self.connected = False
        self.resynced = False  # a (re)connect, not a notification, moved the generation
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="joblane-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    async def wait_past(self, generation: int, timeout: float) -> bool:
        """True once `generation` has moved on (now or within `timeout`)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.generation == generation:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return True

    def _bump(self, *_: Any) -> None:
        self.generation += 1
        self._changed.set()

    async def _run(self) -> None:
        delay = 0.1
        while True:
            lost = asyncio.Event()
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self._url)
                conn.add_termination_listener(_setter(lost))
                await conn.add_listener(CHANNEL, self._bump)
                self.connected, delay = True, 0.1
                self.resynced = True
                self._bump()  # whatever was sent while we were away
                await lost.wait()
            except CONNECTION_ERRORS as exc:
                log.debug("listener connection failed: %s", exc)
            except Exception:  # e.g. a rotated password: keep trying, workers poll meanwhile
                log.exception("listener failed")
            finally:
                self.connected = False
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close(timeout=1)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def _setter(event: asyncio.Event) -> Any:
    return lambda *_: event.set()
