"""The state guards in every backend's `queries.sql` agree with `core/states.py`: each query
that moves a job to a state only does so from an allowed source state, and every allowed
transition has a query."""

from __future__ import annotations

import re

import pytest

from joblane.core.states import TRANSITIONS, JobState, sources_of
from joblane.storage.sqlfiles import load

# backend -> named query -> the state it moves a job to
MOVES: dict[str, dict[str, JobState]] = {
    "joblane.storage.sqlite": {
        "job_cancel_queued": JobState.CANCELLED,
        "job_retry": JobState.QUEUED,
        "jobs_claim": JobState.RUNNING,
        "job_complete": JobState.COMPLETED,
        "job_fail": JobState.FAILED,
        "job_cancelled": JobState.CANCELLED,
        "job_requeue": JobState.QUEUED,
        "job_release": JobState.QUEUED,
        "batch_cancel_queued": JobState.CANCELLED,
        "batch_retry_failed": JobState.QUEUED,
    },
    "joblane.storage.postgres": {
        "job_cancel_queued": JobState.CANCELLED,
        "job_retry": JobState.QUEUED,
        "jobs_claim": JobState.RUNNING,
        "jobs_complete": JobState.COMPLETED,
        "jobs_fail": JobState.FAILED,
        "jobs_cancelled": JobState.CANCELLED,
        "jobs_requeue": JobState.QUEUED,
        "jobs_release": JobState.QUEUED,
        "jobs_claim_limited": JobState.RUNNING,
        "batch_cancel_queued": JobState.CANCELLED,
        "batch_retry_failed": JobState.QUEUED,
    },
}
CASES = [(backend, name) for backend, moves in MOVES.items() for name in sorted(moves)]

_SET_STATE = re.compile(r"\bSET\s+state\s*=\s*'(\w+)'", re.IGNORECASE)
_WHERE = re.compile(r"\bWHERE\b", re.IGNORECASE)
# `state` or `jobs.state`, but not `o.state` of some other relation or `x_state`
_COLUMN = r"(?<![\w.])(?:jobs\.)?state"
_STATE_EQ = re.compile(_COLUMN + r"\s*=\s*'(\w+)'", re.IGNORECASE)
_STATE_IN = re.compile(_COLUMN + r"\s+IN\s*\(([^)]*)\)", re.IGNORECASE)


def target_of(sql: str) -> JobState:
    found = _SET_STATE.findall(sql)
    assert len(found) == 1, f"expected one `SET state = '...'`, found {found}"
    return JobState(found[0])


def guard_states(sql: str) -> set[JobState]:
    """The from-states in the WHERE clause(s): `[jobs.]state = '...'`, `[jobs.]state IN (...)`."""
    sql = _SET_STATE.sub("SET", sql)  # the target, which may follow a guard in a CTE
    where = _WHERE.search(sql)
    assert where is not None, "no WHERE clause"
    clause = sql[where.start() :]
    states = {JobState(s) for s in _STATE_EQ.findall(clause)}
    for group in _STATE_IN.findall(clause):
        states |= {JobState(s) for s in re.findall(r"'(\w+)'", group)}
    return states


@pytest.mark.parametrize(("backend", "name"), CASES)
def test_state_guard_matches_the_state_machine(backend: str, name: str) -> None:
    sql = load(backend)[name]
    target = MOVES[backend][name]

    assert target_of(sql) is target
    sources = guard_states(sql)
    assert sources, f"{name} moves jobs to {target} without a state guard"
    illegal = sources - sources_of(target)
    assert not illegal, f"{name}: {sorted(illegal)} -> {target} is not in TRANSITIONS"


@pytest.mark.parametrize("backend", sorted(MOVES))
def test_every_query_that_sets_a_state_is_checked(backend: str) -> None:
    setting = {name for name, sql in load(backend).items() if _SET_STATE.search(sql)}
    assert setting == set(MOVES[backend])


@pytest.mark.parametrize("backend", sorted(MOVES))
def test_every_allowed_transition_has_a_query(backend: str) -> None:
    queries, moves = load(backend), MOVES[backend]
    covered = {(src, moves[name]) for name in moves for src in guard_states(queries[name])}
    allowed = {(src, dst) for src, targets in TRANSITIONS.items() for dst in targets}
    assert covered == allowed


def test_guard_parsing() -> None:
    sql = (
        "UPDATE jobs SET state = 'queued', error = o.error::json FROM unnest($1) AS o(id, state) "
        "WHERE jobs.id = o.id AND jobs.state IN ('failed', 'cancelled') AND o.state = 'x'"
    )
    assert target_of(sql) is JobState.QUEUED
    assert guard_states(sql) == {JobState.FAILED, JobState.CANCELLED}
    nested = (
        "WITH picked AS (SELECT id FROM jobs WHERE state = 'queued') "
        "UPDATE jobs SET state = 'running' FROM picked WHERE jobs.id = picked.id"
    )
    assert guard_states(nested) == {JobState.QUEUED}
