"""`LogTail`: the last lines of an attempt within the line and byte bounds, what is unsaved,
and where the stored rows start."""

from __future__ import annotations

from joblane.core.joblog import MAX_BYTES, MAX_LINE_CHARS, MAX_LINES, LogTail, clip, dropped_before


def fill(tail: LogTail, count: int, message: str = "m") -> None:
    for _ in range(count):
        tail.add(1.0, "INFO", "x", message)


def test_lines_are_numbered_and_taken_once() -> None:
    tail = LogTail("job_1", 2)
    fill(tail, 3)

    taken = tail.take_unsaved()

    assert [(ln.job_id, ln.attempt, ln.seq) for ln in taken] == [("job_1", 2, s) for s in (1, 2, 3)]
    assert tail.take_unsaved() == [] and not tail.pending
    fill(tail, 1)
    assert [ln.seq for ln in tail.take_unsaved()] == [4]


def test_only_the_last_max_lines_are_kept() -> None:
    tail = LogTail("job_1", 1)
    fill(tail, MAX_LINES + 25)

    assert len(tail.lines) == MAX_LINES
    assert tail.first_seq == 26 and dropped_before(tail.lines) == 25
    assert len(tail.take_unsaved()) == MAX_LINES  # never more than what is kept


def test_the_byte_bound_drops_the_oldest_but_keeps_the_newest_line() -> None:
    tail = LogTail("job_1", 1)
    fill(tail, 40, "x" * MAX_LINE_CHARS)

    assert sum(ln.size for ln in tail.lines) <= MAX_BYTES
    assert tail.lines[-1].seq == 40
    assert len(tail.lines) == MAX_BYTES // MAX_LINE_CHARS


def test_a_long_line_is_cut_and_nuls_removed() -> None:
    assert clip("a\x00b") == "ab"
    cut = clip("y" * (MAX_LINE_CHARS * 2))
    assert len(cut) == MAX_LINE_CHARS and cut.endswith("[truncated]")


def test_an_empty_tail_starts_after_its_last_seq() -> None:
    tail = LogTail("job_1", 1)
    assert tail.first_seq == 1 and dropped_before([]) == 0
