"""What a worker reports of each attempt: metrics (started, finished by outcome, queue wait,
run time, running now) and the handler's own log lines, captured while its task (or its sync
handler's thread) runs and written in batches, one write per interval for every job."""

from __future__ import annotations

import logging
import time

from joblane.core.job import Job
from joblane.core.states import JobState
from joblane.observe.context import JobScope, current_job
from joblane.observe.logs import install_capture
from joblane.observe.metrics import Metrics, attempt_label, metrics
from joblane.observe.tally import Tally
from joblane.storage.base import Storage
from joblane.storage.params import Outcome

log = logging.getLogger("joblane.worker")


def outcome_label(outcome: Outcome) -> str:
    if outcome.state is JobState.QUEUED:
        return "released" if outcome.release else "retried"
    return outcome.state.value


class Attempt:
    """One attempt being run here; `ended` once its outcome is known."""

    __slots__ = ("_metrics", "_started", "_tally", "done", "scope")

    def __init__(self, scope: JobScope, m: Metrics, tally: Tally) -> None:
        self.scope = scope
        self._metrics = m
        self._tally = tally
        self._started = time.perf_counter()
        self.done = False

    def ended(self, outcome: Outcome) -> str:
        """Count the outcome; its label (completed, failed, cancelled, retried, released)."""
        label = outcome_label(outcome)
        if self.done:
            return label
        self.done = True
        m, tally, key = self._metrics, self._tally, (self.scope.type, label)
        tally.add(m.finished[key])
        tally.observe(m.run_time[key], time.perf_counter() - self._started)
        tally.add(m.running[self.scope.type], -1)
        return label


class JobObserver:
    flush_interval = 1.0

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.metrics = metrics()
        self._live: set[JobScope] = set()
        self._retired: list[JobScope] = []
        self._tally = Tally()
        install_capture()

    def started(self, job: Job) -> Attempt:
        """Call in the job's own task: from here its log lines are the job's."""
        scope = JobScope(job.id, job.type, job.attempt)
        current_job.set(scope)
        self._live.add(scope)
        m, tally = self.metrics, self._tally
        tally.add(m.started[job.type])
        tally.add(m.attempts[(job.type, attempt_label(job.attempt))])
        if job.started_at is not None:
            tally.observe(m.queue_wait[job.type], max(0.0, job.started_at - job.scheduled_at))
        tally.add(m.running[job.type])
        return Attempt(scope, m, tally)

    def retire(self, attempt: Attempt) -> None:
        """The attempt's task ended (its lines are written by the next flush)."""
        if not attempt.done:  # ended by an error of the worker itself: no outcome to count
            attempt.done = True
            self._tally.add(self.metrics.running[attempt.scope.type], -1)
        self._live.discard(attempt.scope)
        if attempt.scope.tail is not None:
            self._retired.append(attempt.scope)

    async def flush(self) -> None:
        """Add the metrics counted since the last flush; write every attempt's new lines in
        one write (on failure they are dropped: a job's log is a debugging aid, never a
        reason to hold a worker up)."""
        self._tally.flush()
        scopes = [*self._live, *self._retired]
        self._retired = []
        batches = [batch for scope in scopes if (batch := scope.take_batch()) is not None]
        if not batches:
            return
        try:
            await self.storage.job_logs_write(batches)
        except Exception as exc:
            lines = sum(len(b.lines) for b in batches)
            log.warning("dropped %d job log lines: %s", lines, exc)
