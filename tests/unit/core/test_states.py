"""The job state machine: every (from, to) pair, terminal states and `sources_of`."""

from __future__ import annotations

import itertools

import pytest

from joblane.core.states import (
    TERMINAL,
    TRANSITIONS,
    JobState,
    can_transition,
    is_terminal,
    sources_of,
)

Q, R, C, F, X = (
    JobState.QUEUED,
    JobState.RUNNING,
    JobState.COMPLETED,
    JobState.FAILED,
    JobState.CANCELLED,
)

# Written out by hand so that a change to TRANSITIONS has to be made twice, on purpose.
EXPECTED_ALLOWED: frozenset[tuple[JobState, JobState]] = frozenset(
    {(Q, R), (Q, X), (R, C), (R, F), (R, X), (R, Q), (F, Q), (X, Q)}
)

ALL_PAIRS = list(itertools.product(JobState, repeat=2))


def test_table_has_a_row_for_every_state() -> None:
    assert set(TRANSITIONS) == set(JobState)


def test_table_matches_the_documented_machine() -> None:
    table = {(src, dst) for src, targets in TRANSITIONS.items() for dst in targets}
    assert table == EXPECTED_ALLOWED


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
def test_can_transition_exactly_when_in_table(current: JobState, target: JobState) -> None:
    assert can_transition(current, target) is (target in TRANSITIONS[current])
    assert can_transition(current, target) is ((current, target) in EXPECTED_ALLOWED)


@pytest.mark.parametrize("state", list(JobState))
def test_no_state_moves_to_itself(state: JobState) -> None:
    assert not can_transition(state, state)


def test_terminal_states() -> None:
    assert frozenset({C, F, X}) == TERMINAL
    for state in JobState:
        assert is_terminal(state) is (state in {C, F, X})


@pytest.mark.parametrize("state", sorted(TERMINAL))
def test_terminal_states_only_leave_by_user_retry(state: JobState) -> None:
    assert TRANSITIONS[state] <= {Q}
    assert not can_transition(state, R)


def test_completed_is_final() -> None:
    assert all(not can_transition(C, target) for target in JobState)


@pytest.mark.parametrize("target", list(JobState))
def test_sources_of_is_the_inverse_of_the_table(target: JobState) -> None:
    expected = frozenset(src for src, dst in EXPECTED_ALLOWED if dst == target)
    assert sources_of(target) == expected
    for source in JobState:
        assert (source in sources_of(target)) is can_transition(source, target)


def test_sources_of_examples() -> None:
    assert sources_of(R) == {Q}
    assert sources_of(Q) == {R, F, X}
    assert sources_of(C) == {R}
    assert sources_of(F) == {R}
    assert sources_of(X) == {Q, R}


def test_state_values_are_the_wire_strings() -> None:
    assert [s.value for s in JobState] == [
        "queued",
        "running",
        "completed",
        "failed",
        "cancelled",
    ]
    assert JobState("running") is R
