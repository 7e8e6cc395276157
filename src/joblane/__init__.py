"""Joblane: an async job service. Register handlers, submit jobs over HTTP, poll or wait."""

from __future__ import annotations

from joblane.app import Joblane, JobType
from joblane.client import AsyncClient, Client
from joblane.core.errors import JobCancelled, JobError
from joblane.worker.context import JobContext

# `JobCancelled` is the worker side's (a handler's `ctx.check_cancelled()` raises it); the
# client raises `joblane.client.JobCancelledError` when a job it waits for was cancelled.
__all__ = ["AsyncClient", "Client", "JobCancelled", "JobContext", "JobError", "JobType", "Joblane"]
