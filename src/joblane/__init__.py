"""Joblane: an async job service. Register handlers, submit jobs over HTTP, poll or wait."""

from __future__ import annotations

from joblane.app import Joblane, JobType
from joblane.core.errors import JobCancelled, JobError
from joblane.worker.context import JobContext

__all__ = ["JobCancelled", "JobContext", "JobError", "JobType", "Joblane"]
