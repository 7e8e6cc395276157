"""What every log line (and span) of this task is about: the API request, or the job a handler
runs. Context variables, so they follow `await` and are copied into a sync handler's thread."""

from __future__ import annotations

import threading
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from joblane.core.joblog import LogBatch, LogTail

request_id: ContextVar[str | None] = ContextVar("joblane_request_id", default=None)
# the request's `traceparent` / `tracestate` headers, for tracing (observe/tracing.py)
trace_headers: ContextVar[dict[str, str] | None] = ContextVar("joblane_trace", default=None)


# one lock for every job's tail: lines are few next to jobs, and a lock per job costs each job
_TAILS = threading.Lock()


@dataclass(slots=True, eq=False)
class JobScope:
    """One attempt of a job running in this process, and the tail of its own log lines."""

    job_id: str
    type: str
    attempt: int
    tail: LogTail | None = None  # made on the first line

    def add_line(self, at: float, level: str, logger: str, message: str) -> None:
        with _TAILS:
            if self.tail is None:
                self.tail = LogTail(self.job_id, self.attempt)
            self.tail.add(at, level, logger, message)

    def take_batch(self) -> LogBatch | None:
        """The lines not written yet, or None."""
        with _TAILS:
            tail = self.tail
            if tail is None or not tail.pending:
                return None
            return LogBatch(self.job_id, self.attempt, tail.first_seq, tuple(tail.take_unsaved()))


current_job: ContextVar[JobScope | None] = ContextVar("joblane_job", default=None)


def fields() -> dict[str, Any]:
    """The context of the current task for a log line: request_id, job_id, type, attempt."""
    out: dict[str, Any] = {}
    rid = request_id.get()
    if rid is not None:
        out["request_id"] = rid
    job = current_job.get()
    if job is not None:
        out["job_id"] = job.job_id
        out["type"] = job.type
        out["attempt"] = job.attempt
    return out
