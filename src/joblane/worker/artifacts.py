"""The worker's side of artifacts: a job's files written to the store (`ctx.write_artifact`),
and its result stored as a file when it is over the inline limit.

Each write: a row reserved with the job's lease (so the file is known before it exists), the
bytes written atomically to a path of their own, then the row committed (size and sha256) with
the lease again. A write that fails, or whose lease is gone by the end, is abandoned: its path
goes to the garbage queue, and the maintenance leader removes whatever is there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterable, Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO, TypeVar

import orjson

from joblane.core.artifact import (
    DEFAULT_CONTENT_TYPE,
    RESULT_NAME,
    Artifact,
    check_content_type,
    check_name,
    preview_of,
    stored_reference,
)
from joblane.core.errors import JobCancelled
from joblane.core.job import Job, Lease
from joblane.service.artifact_store import ArtifactStore, FileWriter, Written
from joblane.storage.base import Storage

log = logging.getLogger("joblane.worker")
T = TypeVar("T")

CHUNK = 256 * 1024
DEFAULT_INLINE_LIMIT = 256 * 1024
DEFAULT_MAX_BYTES = 5 * 1024**3
Data = bytes | bytearray | memoryview | Iterable[bytes] | AsyncIterable[bytes] | BinaryIO


@dataclass(frozen=True, slots=True)
class ArtifactLimits:
    inline_limit: int = DEFAULT_INLINE_LIMIT  # results larger than this (as JSON) are files
    max_bytes: int = DEFAULT_MAX_BYTES  # the largest file a job may write


def check(name: str, content_type: str) -> None:
    check_name(name)
    check_content_type(content_type)


def _put(writer: FileWriter, data: Any) -> Written:
    """Write `data` (bytes, a file object or an iterable of bytes), then commit; blocking."""
    try:
        if isinstance(data, bytes | bytearray | memoryview):
            writer.write(bytes(data))
        elif hasattr(data, "read"):
            while chunk := data.read(CHUNK):
                writer.write(_as_bytes(chunk))
        else:
            for chunk in data:
                writer.write(_as_bytes(chunk))
        return writer.commit()
    except BaseException:
        writer.abort()
        raise


def _as_bytes(chunk: Any) -> bytes:
    if not isinstance(chunk, bytes | bytearray | memoryview):
        raise TypeError(f"artifact data must be bytes, not {type(chunk).__name__}")
    return bytes(chunk)


class ArtifactWriter:
    def __init__(
        self, storage: Storage, store: ArtifactStore, limits: ArtifactLimits | None = None
    ) -> None:
        self.storage = storage
        self.store = store
        self.limits = limits or ArtifactLimits()

    async def write(self, job: Job, name: str, data: Data, content_type: str) -> Artifact:
        check(name, content_type)
        return await self._write(job, name, data, content_type)

    async def spill(self, job: Job, result: Any) -> Any:
        """`result`, or a reference to it stored as a file when over the inline limit."""
        encoded = orjson.dumps(result)
        if len(encoded) <= self.limits.inline_limit:
            return result
        artifact = await self._write(job, RESULT_NAME, encoded, "application/json")
        return stored_reference(artifact, preview_of(encoded))

    async def _write(self, job: Job, name: str, data: Data, content_type: str) -> Artifact:
        lease = Lease(job.id, job.lease_token or "")
        path = self.store.new_path(job.id, job.attempt, name)
        if not await self.storage.artifact_reserve(lease, name, path, content_type):
            raise JobCancelled(job.id)  # the lease is gone: the job is not ours any more
        try:
            written = await self._put(path, data)
            artifact = await self.storage.artifact_commit(
                lease, name, path, written.size, written.sha256
            )
        except BaseException:
            await self._abandon(job.id, name, path)
            raise
        if artifact is None:
            await self._abandon(job.id, name, path)
            raise JobCancelled(job.id)
        return artifact

    async def _put(self, path: str, data: Data) -> Written:
        writer = await asyncio.to_thread(self.store.writer, path, self.limits.max_bytes)
        if not isinstance(data, AsyncIterable):
            return await _in_thread(writer, _put, writer, data)
        try:
            async for chunk in data:
                await _in_thread(writer, writer.write, _as_bytes(chunk))
            return await _in_thread(writer, writer.commit)
        except BaseException:
            await asyncio.to_thread(writer.abort)
            raise

    async def _abandon(self, job_id: str, name: str, path: str) -> None:
        try:
            await self.storage.artifact_abandon(job_id, name, path)
        except Exception:  # the row stays; the job's deletion hands its files over
            log.exception("could not abandon artifact %s of %s", name, job_id)


async def _in_thread(writer: FileWriter, fn: Callable[..., T], *args: Any) -> T:
    """`fn` in a thread. Interrupted (the attempt was stopped), the thread is told to give up
    and waited for: whatever follows (abandoning the path) comes after its last byte, so a
    sweep never removes a directory that a late rename then fills again."""
    task = asyncio.ensure_future(asyncio.to_thread(fn, *args))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        writer.stop()
        with contextlib.suppress(BaseException):
            await task
        raise


class ArtifactWrite:
    """What `ctx.write_artifact` returns. In a sync handler the write is done when it returns
    (`.artifact` is the record); in an async handler `await` it."""

    def __init__(
        self, task: asyncio.Task[Artifact] | None = None, artifact: Artifact | None = None
    ) -> None:
        self._task = task
        self._artifact = artifact
        self.awaited = task is None

    @property
    def artifact(self) -> Artifact:
        if self._artifact is None:
            assert self._task is not None
            self._artifact = self._task.result()  # InvalidStateError while still running
        return self._artifact

    def __await__(self) -> Generator[Any, None, Artifact]:
        self.awaited = True
        if self._task is None:
            return self._done().__await__()
        return self._task.__await__()

    async def _done(self) -> Artifact:
        return self.artifact

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def settle(self) -> None:
        """Wait for a write the handler did not await; its failure is the handler's."""
        if self._task is not None and not self.awaited:
            self.awaited = True
            await self._task


class JobArtifacts:
    """A running job's access to the writer, from its handler's thread or the event loop."""

    def __init__(self, writer: ArtifactWriter, job: Job) -> None:
        self.writer = writer
        self.job = job
        self.loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._writes: list[ArtifactWrite] = []

    def start(self, name: str, data: Data, content_type: str) -> ArtifactWrite:
        check(name, content_type)
        write = self.writer.write(self.job, name, data, content_type)
        if threading.get_ident() == self._loop_thread:
            handle = ArtifactWrite(task=self.loop.create_task(write))
            self._writes.append(handle)
            return handle
        if isinstance(data, AsyncIterable):
            write.close()
            raise TypeError("a sync handler writes bytes, a file object or an iterable of bytes")
        return ArtifactWrite(artifact=asyncio.run_coroutine_threadsafe(write, self.loop).result())

    async def settle(self) -> None:
        for handle in self._writes:
            await handle.settle()

    async def spill(self, result: Any) -> Any:
        return await self.writer.spill(self.job, result)

    def cancel_pending(self) -> None:
        """The attempt ended otherwise than by returning: writes still running are stopped
        (each abandons its file)."""
        for handle in self._writes:
            handle.cancel()


__all__ = ["DEFAULT_CONTENT_TYPE", "ArtifactWrite", "ArtifactWriter", "JobArtifacts"]
