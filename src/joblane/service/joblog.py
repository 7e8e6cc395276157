"""A job's handler log lines as the API and the dashboard read them, found through the job (so
tenancy is the job's: call `JobService.get` first)."""

from __future__ import annotations

from joblane.core.job import Job
from joblane.core.joblog import MAX_LINES, LogLine
from joblane.storage.base import Storage


class JobLogService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def lines(self, job: Job, attempt: int | None = None) -> list[LogLine]:
        """The kept lines of one attempt (default: the job's current attempt), oldest first.
        `dropped_before(lines)` says how many earlier lines of it were not kept."""
        chosen = job.attempt if attempt is None else attempt
        if chosen < 1:
            return []
        return await self.storage.job_logs(job.id, chosen, MAX_LINES)

    async def every_attempt(self, job: Job) -> list[LogLine]:
        """The kept lines of all the job's attempts, by attempt then seq."""
        return await self.storage.job_logs(job.id, None, MAX_LINES * max(job.attempt, 1))
