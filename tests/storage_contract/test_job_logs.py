"""Storage contract: a handler's log lines (migration 0009). A flush writes the new lines of
each attempt and trims what the worker's bounds dropped; deleting a job by any means deletes its
lines; nothing is written for a job that does not exist."""

from __future__ import annotations

from joblane.core.joblog import LogBatch, LogLine, LogTail
from joblane.core.retention import Cutoffs
from joblane.core.states import JobState
from joblane.storage.base import Storage
from joblane.storage.params import Outcome
from storage_contract.helpers import claim_one, lease_of


def batch_of(tail: LogTail) -> LogBatch:
    return LogBatch(tail.job_id, tail.attempt, tail.first_seq, tuple(tail.take_unsaved()))


def tail_with(job_id: str, attempt: int, *messages: str) -> LogTail:
    tail = LogTail(job_id, attempt)
    for i, message in enumerate(messages):
        tail.add(1000.0 + i, "INFO", "handler", message)
    return tail


async def test_lines_are_read_back_in_order_per_attempt(storage: Storage) -> None:
    job = await claim_one(storage)
    first, second = tail_with(job.id, 1, "a", "b"), tail_with(job.id, 2, "c")
    await storage.job_logs_write([batch_of(first), batch_of(second)])

    lines = await storage.job_logs(job.id, 1, 100)

    assert lines == [
        LogLine(job.id, 1, 1, 1000.0, "INFO", "handler", "a"),
        LogLine(job.id, 1, 2, 1001.0, "INFO", "handler", "b"),
    ]
    assert [ln.message for ln in await storage.job_logs(job.id, 2, 100)] == ["c"]
    every = await storage.job_logs(job.id, None, 100)
    assert [(ln.attempt, ln.seq) for ln in every] == [(1, 1), (1, 2), (2, 1)]
    assert len(await storage.job_logs(job.id, None, 2)) == 2


async def test_later_flushes_append_and_trim_what_the_bounds_dropped(storage: Storage) -> None:
    job = await claim_one(storage)
    tail = tail_with(job.id, 1, *[f"line {i}" for i in range(150)])
    await storage.job_logs_write([batch_of(tail)])
    for i in range(150, 260):
        tail.add(2000.0, "WARNING", "handler", f"line {i}")

    await storage.job_logs_write([batch_of(tail)])

    lines = await storage.job_logs(job.id, 1, 1000)
    assert [ln.seq for ln in lines] == list(range(61, 261))
    assert lines == tail.lines
    assert lines[-1].message == "line 259" and lines[-1].level == "WARNING"


async def test_unicode_and_long_lines_survive(storage: Storage) -> None:
    job = await claim_one(storage)
    tail = tail_with(job.id, 1, "żółć ✓ \x00 end", "x" * 10_000)
    await storage.job_logs_write([batch_of(tail)])

    short, long = await storage.job_logs(job.id, 1, 10)

    assert short.message == "żółć ✓  end"
    assert len(long.message) == 4000 and long.message.endswith("[truncated]")


async def test_lines_of_a_missing_job_are_not_written(storage: Storage) -> None:
    await storage.job_logs_write([batch_of(tail_with("job_missing", 1, "a"))])

    assert await storage.job_logs("job_missing", None, 10) == []


async def test_deleting_a_job_deletes_its_lines_and_trace(storage: Storage) -> None:
    job, keep = await claim_one(storage), await claim_one(storage)
    await storage.job_logs_write([batch_of(tail_with(j.id, 1, "a")) for j in (job, keep)])
    await storage.job_trace_put(job.id, "00-" + "1" * 32 + "-" + "2" * 16 + "-01", None)
    await storage.jobs_finish([Outcome(lease_of(job), JobState.COMPLETED, result=1)])

    assert (await storage.job_delete(job.id, "tenant-a")).changed

    assert await storage.job_logs(job.id, None, 10) == []
    assert await storage.job_trace_get(job.id) is None
    assert len(await storage.job_logs(keep.id, None, 10)) == 1


async def test_retention_purges_the_lines_with_the_job(storage: Storage) -> None:
    job = await claim_one(storage)
    await storage.job_logs_write([batch_of(tail_with(job.id, 1, "a", "b"))])
    await storage.jobs_finish([Outcome(lease_of(job), JobState.FAILED, result=None)])

    assert await storage.jobs_expire(Cutoffs(storage.now() + 10, {}), 100) == 1

    assert await storage.job_logs(job.id, None, 10) == []


async def test_a_trace_context_is_kept_once_per_job(storage: Storage) -> None:
    job = await claim_one(storage)
    parent = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"

    await storage.job_trace_put(job.id, parent, "k=v")
    await storage.job_trace_put(job.id, "00-" + "c" * 32 + "-" + "d" * 16 + "-01", None)
    await storage.job_trace_put("job_missing", parent, None)

    assert await storage.job_trace_get(job.id) == (parent, "k=v")
    assert await storage.job_trace_get("job_missing") is None
