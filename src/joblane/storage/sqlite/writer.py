"""One writer thread with group commit.

Every write is a function of the connection. The thread takes all the writes that are waiting,
runs each inside its own SAVEPOINT within one `BEGIN IMMEDIATE` transaction and commits once: a
burst of submissions, completions and heartbeats costs one fsync, and a failing write rolls back
alone. A caller's future resolves only after COMMIT returned, so a 202 means durable.

The writes outstanding (queued or in the group being written) are bounded: when the writer
cannot keep up or is stalled (a long transaction, another process holding the write lock), a
new write fails at once with `Unavailable` (the API's 503 with Retry-After) instead of joining
a queue that grows until clients time out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from joblane.core.errors import Unavailable

log = logging.getLogger("joblane.storage")
T = TypeVar("T")
WriteFn = Callable[[sqlite3.Connection], Any]
MAX_GROUP = 512


@dataclass(slots=True)
class _Write:
    fn: WriteFn
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


class GroupCommitWriter:
    def __init__(self, connect: Callable[[], sqlite3.Connection], max_pending: int = 2000) -> None:
        self._connect = connect
        self._max_pending = max_pending
        # two counters, each written by one thread only (so no lock): outstanding = the difference
        self._submitted = 0  # by the event loop
        self._finished = 0  # by the writer thread
        self._queue: queue.SimpleQueue[_Write | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="joblane-sqlite-writer", daemon=True)
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None

    def start(self) -> None:
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            raise self._startup_error

    def stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        while True:  # writes queued behind the stop would otherwise wait forever
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                _settle(item, None, Unavailable("storage is closed"))

    @property
    def pending(self) -> int:
        """Writes queued or being written."""
        return self._submitted - self._finished

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if not self._thread.is_alive():
            raise Unavailable("storage is not open")
        if self.pending >= self._max_pending:
            raise Unavailable(f"the database is overloaded ({self.pending} writes waiting)")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._submitted += 1
        self._queue.put(_Write(fn, future, loop))
        return await future

    def _run(self) -> None:
        try:
            conn = self._connect()
        except BaseException as exc:  # reported to start()
            self._startup_error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while (group := self._next_group()) is not None:
                try:
                    self._commit_group(conn, group)
                except Exception as exc:  # disk full, I/O error: fail this group, keep serving
                    log.exception("write group failed")
                    _rollback(conn)
                    for write in group:
                        _settle(write, None, Unavailable(f"database write failed: {exc}"))
                self._finished += len(group)
        finally:
            conn.close()

    def _next_group(self) -> list[_Write] | None:
        first = self._queue.get()
        if first is None:
            return None
        group = [first]
        while len(group) < MAX_GROUP:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)  # stop after this group
                break
            group.append(item)
        return group

    def _commit_group(self, conn: sqlite3.Connection, group: list[_Write]) -> None:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            failure = Unavailable(f"database is busy: {exc}")
            for write in group:
                _settle(write, None, failure)
            return
        outcomes = [self._apply(conn, write) for write in group]
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            _rollback(conn)
            outcomes = [(None, Unavailable(f"commit failed: {exc}")) for _ in group]
        for write, (value, error) in zip(group, outcomes, strict=True):
            _settle(write, value, error)

    @staticmethod
    def _apply(conn: sqlite3.Connection, write: _Write) -> tuple[Any, BaseException | None]:
        conn.execute("SAVEPOINT write")
        try:
            value = write.fn(conn)
        except Exception as exc:
            if conn.in_transaction:  # SQLite may already have rolled everything back (disk full)
                conn.execute("ROLLBACK TO write")
                conn.execute("RELEASE write")
            if isinstance(exc, sqlite3.OperationalError):  # disk full, I/O error, …: a 503
                log.warning("write failed: %s", exc)
                exc = Unavailable("database write failed")
            return None, exc
        conn.execute("RELEASE write")
        return value, None


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


def _settle(write: _Write, value: Any, error: BaseException | None) -> None:
    def resolve() -> None:
        if write.future.done():
            return
        if error is not None:
            write.future.set_exception(error)
        else:
            write.future.set_result(value)

    # RuntimeError: the caller's loop is closed, nobody is waiting any more
    with contextlib.suppress(RuntimeError):
        write.loop.call_soon_threadsafe(resolve)
