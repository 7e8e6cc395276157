"""`JobContext`: what a handler sees of its job, its progress and its cancellation."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from joblane.core.artifact import DEFAULT_CONTENT_TYPE
from joblane.core.errors import JobCancelled
from joblane.core.job import Job, Progress

if TYPE_CHECKING:
    from joblane.worker.artifacts import ArtifactWrite, Data, JobArtifacts


@dataclass(slots=True)
class ProgressState:
    """The latest progress a handler reported; flushed to storage by the worker, coalesced."""

    processed: int = 0
    total: int | None = None
    failed: int = 0
    message: str | None = None
    dirty: bool = False
    reported: bool = False  # the handler reported progress at least once

    def snapshot(self) -> Progress:
        return Progress(self.processed, self.total, self.failed, self.message)


class JobContext:
    """Handed to every handler as its second argument. Safe to use from a worker thread."""

    def __init__(
        self, job: Job, logger: logging.Logger, artifacts: JobArtifacts | None = None
    ) -> None:
        self.job = job
        self.artifacts = artifacts  # None: this worker has no artifact store
        self._base_logger = logger
        self._logger: logging.LoggerAdapter[logging.Logger] | None = None
        self._progress = ProgressState(
            job.progress.processed, job.progress.total, job.progress.failed, job.progress.message
        )
        self._lock = threading.Lock()
        # plain flags: set once, read from any thread (threading.Event costs more than a job)
        self._cancel_flag = False
        self._stop_flag = False
        self.timed_out = False
        self.thread: Future[Any] | None = None  # a sync handler's thread, once it was started

    @property
    def logger(self) -> logging.LoggerAdapter[logging.Logger]:
        """A logger whose records carry `job_id`, `type` and `attempt` (made on first use)."""
        if self._logger is None:
            job = self.job
            extra = {"job_id": job.id, "type": job.type, "attempt": job.attempt}
            self._logger = logging.LoggerAdapter(self._base_logger, extra)
        return self._logger

    @property
    def job_id(self) -> str:
        return self.job.id

    @property
    def attempt(self) -> int:
        return self.job.attempt

    def progress(
        self,
        processed: int | None = None,
        total: int | None = None,
        *,
        failed: int | None = None,
        message: str | None = None,
    ) -> None:
        """Record progress. Cheap: the worker writes the latest value a few times a second."""
        with self._lock:
            state = self._progress
            if processed is not None:
                state.processed = max(state.processed, processed)
            if total is not None:
                state.total = total
            if failed is not None:
                state.failed = max(state.failed, failed)
            if message is not None:
                state.message = message[:500].replace("\x00", "")
            state.dirty = state.reported = True

    @property
    def cancelled(self) -> bool:
        """True once the handler should stop: the job was cancelled or the worker is stopping."""
        return self._cancel_flag or self._stop_flag

    def check_cancelled(self) -> None:
        """Raise `JobCancelled` if the handler should stop; call it between units of work."""
        if self.cancelled:
            raise JobCancelled(self.job.id)

    def write_artifact(
        self, name: str, data: Data, *, content_type: str = DEFAULT_CONTENT_TYPE
    ) -> ArtifactWrite:
        """Store a file of this job (listed at `GET /v1/jobs/{id}/artifacts`). `data`: bytes,
        a binary file object, an iterable of bytes (streamed, never held whole), or in an async
        handler an async iterable of bytes. A sync handler's call returns once the file is
        stored (`.artifact` describes it); an async handler awaits it. A later write of the
        same name (this attempt's or a later one's) replaces the file. Names: letters, digits,
        '.', '_' and '-', starting with a letter or digit, at most 200 characters."""
        if self.artifacts is None:
            raise RuntimeError("this worker has no artifact store (see JOBLANE_ARTIFACTS_URL)")
        return self.artifacts.start(name, data, content_type)

    # -- used by the worker runtime ------------------------------------------------------------
    @property
    def cancel_requested(self) -> bool:
        """A user cancelled the job (as opposed to the worker stopping it to hand it back)."""
        return self._cancel_flag

    def request_cancel(self) -> None:
        self._cancel_flag = True

    def request_stop(self) -> None:
        self._stop_flag = True

    def request_timeout(self) -> None:
        """The job ran past its timeout: the handler should stop; the attempt fails TIMEOUT."""
        self.timed_out = True
        self._stop_flag = True

    def final_progress(self) -> Progress | None:
        """The last progress the handler reported, for its outcome: written with the outcome
        even when a periodic flush took it first (that flush may land after the outcome, where
        its state guard drops it)."""
        with self._lock:
            self._progress.dirty = False
            return self._progress.snapshot() if self._progress.reported else None

    def take_progress(self) -> Progress | None:
        """The progress to write now, or None when nothing changed since the last write."""
        with self._lock:
            if not self._progress.dirty:
                return None
            self._progress.dirty = False
            return self._progress.snapshot()
