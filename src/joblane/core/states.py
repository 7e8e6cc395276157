"""The job state machine as one table.

Storage enforces the same table in SQL (`UPDATE ... WHERE state IN (...)`), so a late worker
cannot overwrite a job that was rescued or cancelled in the meantime.
"""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL: frozenset[JobState] = frozenset({JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED})

# from-state -> the states it may move to. Nothing leaves a terminal state except an explicit
# user retry (failed/cancelled -> queued), which starts a new attempt.
TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.QUEUED: frozenset({JobState.RUNNING, JobState.CANCELLED}),
    JobState.RUNNING: frozenset(
        {JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.QUEUED}
    ),
    JobState.COMPLETED: frozenset(),
    JobState.FAILED: frozenset({JobState.QUEUED}),
    JobState.CANCELLED: frozenset({JobState.QUEUED}),
}


def can_transition(current: JobState, target: JobState) -> bool:
    return target in TRANSITIONS[current]


def sources_of(target: JobState) -> frozenset[JobState]:
    """Every state from which `target` may be reached: the `state IN (...)` guard in storage."""
    return frozenset(src for src, targets in TRANSITIONS.items() if target in targets)


def is_terminal(state: JobState) -> bool:
    return state in TERMINAL
