"""LISTEN for new jobs (and new webhook deliveries) on a dedicated connection; reconnects by
itself.

`generation` counts a channel's notifications (and reconnects, after which anything may have
been missed), so a worker can tell, without a query, whether something arrived since its last
claim began.
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
WEBHOOK_CHANNEL = "joblane_webhooks"
CHANNELS = (CHANNEL, WEBHOOK_CHANNEL)


class Listener:
    def __init__(self, url: str) -> None:
        self._url = url
        self.generations = dict.fromkeys(CHANNELS, 0)
        self.connected = False
        self.resynced = False  # a (re)connect, not a notification, moved the jobs generation
        self._changed = {channel: asyncio.Event() for channel in CHANNELS}
        self._task: asyncio.Task[None] | None = None

    @property
    def generation(self) -> int:
        return self.generations[CHANNEL]

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="joblane-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    async def wait_past(self, generation: int, timeout: float, channel: str = CHANNEL) -> bool:
        """True once `channel`'s `generation` has moved on (now or within `timeout`)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        changed = self._changed[channel]
        while self.generations[channel] == generation:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)
        return True

    def _bump(self, _conn: Any, _pid: int, channel: str, _payload: object) -> None:
        self.generations[channel] += 1
        self._changed[channel].set()

    def _bump_all(self) -> None:
        for channel in CHANNELS:
            self._bump(None, 0, channel, "")

    async def _run(self) -> None:
        delay = 0.1
        while True:
            lost = asyncio.Event()
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self._url)
                conn.add_termination_listener(_setter(lost))
                for channel in CHANNELS:
                    await conn.add_listener(channel, self._bump)
                self.connected, delay = True, 0.1
                self.resynced = True
                self._bump_all()  # whatever was sent while we were away
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
