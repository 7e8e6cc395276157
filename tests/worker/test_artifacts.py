"""The worker and artifacts: a result over the inline limit becomes a file and a reference;
handlers write files from sync and async code; a retried attempt replaces the files of the
one before (which the sweep then removes); writes without the lease store nothing."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

import artifact_apps
from joblane.core.artifact import RESULT_NAME, Artifact, reference_of
from joblane.core.errors import JobCancelled
from joblane.core.job import Job
from joblane.core.retry import RetryPolicy
from joblane.core.states import JobState
from joblane.maintenance.artifacts import ArtifactSweep
from joblane.service.artifact_store import ArtifactStore
from joblane.storage.base import Storage
from joblane.storage.params import Outcome
from joblane.worker.artifacts import ArtifactLimits, ArtifactWriter
from joblane.worker.runtime import Worker
from storage_contract.helpers import lease_of
from worker import FAST, get, submit

LIMIT = 1000


@dataclass
class Setup:
    storage: Storage
    store: ArtifactStore
    writer: ArtifactWriter

    def worker(self) -> Worker:
        return Worker(
            self.storage,
            artifact_apps.app,
            FAST,
            policy=RetryPolicy(base=0.0, jitter=False),
            artifacts=self.writer,
        )

    async def run(self, type_: str, **input: Any) -> Job:
        job = await submit(self.storage, type_, input, max_attempts=3)
        await self.worker().run_until_empty()
        return await get(self.storage, job.id)

    def read(self, artifact: Artifact) -> bytes:
        with self.store.open_read(artifact.path) as handle:
            return handle.read()

    def files(self) -> list[Path]:
        return sorted(p for p in Path(self.store.root).rglob("*") if p.is_file())


@pytest.fixture
async def setup(storage: Storage, tmp_path: Path) -> AsyncIterator[Setup]:
    store = ArtifactStore.from_url(str(tmp_path / "artifacts"))
    yield Setup(storage, store, ArtifactWriter(storage, store, ArtifactLimits(LIMIT, 10**7)))


@pytest.mark.parametrize("type_", ["big", "big_sync"])
async def test_a_result_over_the_limit_is_stored_as_a_file(setup: Setup, type_: str) -> None:
    job = await setup.run(type_, size=5000, seed="s")

    assert job.state is JobState.COMPLETED
    ref = reference_of(job.result)
    assert ref is not None
    expected = orjson.dumps({"blob": artifact_apps.blob(5000, "s-1"), "attempt": 1})
    artifact = await setup.storage.artifact_get(job.id, RESULT_NAME)
    assert artifact is not None
    assert setup.read(artifact) == expected
    assert ref.sha256 == artifact.sha256 == hashlib.sha256(expected).hexdigest()
    assert ref.size == artifact.size == len(expected)
    assert (ref.content_type, ref.attempt) == ("application/json", 1)
    assert ref.preview == expected[:1024].decode()
    assert len(orjson.dumps(job.result)) < 2 * 1024  # the row keeps the reference only


async def test_a_result_within_the_limit_stays_inline(setup: Setup) -> None:
    job = await setup.run("big", size=100, seed="s")

    assert job.result == {"blob": artifact_apps.blob(100, "s-1"), "attempt": 1}
    assert await setup.storage.artifacts_list(job.id) == []
    assert setup.files() == []


@pytest.mark.parametrize("type_", ["files_sync", "files_async"])
async def test_handlers_write_files(setup: Setup, type_: str) -> None:
    job = await setup.run(type_, chunks=4, chunk_size=3000)

    assert job.state is JobState.COMPLETED, job.error
    listed = {a.name: a for a in await setup.storage.artifacts_list(job.id)}
    assert set(listed) == {"report.txt", "note.txt"}
    report = b"".join(artifact_apps.chunk_bytes(i, 3000, 1) for i in range(4))
    assert setup.read(listed["report.txt"]) == report
    assert listed["report.txt"].sha256 == hashlib.sha256(report).hexdigest()
    assert job.result == {"sha256": listed["report.txt"].sha256, "size": len(report)}
    # written without being awaited in the async handler: done before the job completed
    assert setup.read(listed["note.txt"]) == b"attempt 1"
    assert listed["note.txt"].content_type == "text/plain"
    assert len(setup.files()) == 2


@pytest.mark.parametrize("type_", ["files_sync", "files_async"])
async def test_a_retried_attempt_replaces_the_files_of_the_last(setup: Setup, type_: str) -> None:
    job = await setup.run(type_, chunks=2, chunk_size=500, fail_first_attempt=True)

    assert job.state is JobState.COMPLETED and job.attempt == 2, job
    listed = {a.name: a for a in await setup.storage.artifacts_list(job.id)}
    assert {a.attempt for a in listed.values()} == {2}
    assert setup.read(listed["note.txt"]) == b"attempt 2"
    report = b"".join(artifact_apps.chunk_bytes(i, 500, 2) for i in range(2))
    assert setup.read(listed["report.txt"]) == report
    # attempt 1's files wait for the sweep (the async handler's unawaited write may have been
    # stopped when the attempt failed: then it left no file, only its queued path)
    before = len(setup.files())
    assert before == 4 if type_ == "files_sync" else before in (3, 4)

    removed = await ArtifactSweep(setup.storage, setup.store).run()
    assert removed == 2 if type_ == "files_sync" else removed in (1, 2)

    assert setup.files() == sorted(Path(setup.store.full_path(a.path)) for a in listed.values())
    assert await setup.storage.artifact_garbage(10) == []


async def test_a_later_attempt_replaces_the_result_file(setup: Setup) -> None:
    """An attempt that stored its result and then lost the job (its outcome never written)."""
    job = await submit(setup.storage, "big", max_attempts=3)
    (first,) = await setup.storage.jobs_claim("w1", ["big"], 1, 30.0)
    old = reference_of(await setup.writer.spill(first, {"blob": "a" * 5000}))
    await setup.storage.jobs_finish([Outcome(lease_of(first), JobState.QUEUED)])
    (second,) = await setup.storage.jobs_claim("w1", ["big"], 1, 30.0)

    result = await setup.writer.spill(second, {"blob": "b" * 5000})
    await setup.storage.jobs_finish([Outcome(lease_of(second), JobState.COMPLETED, result)])

    new = reference_of((await get(setup.storage, job.id)).result)
    assert old is not None and new is not None
    assert (old.attempt, new.attempt) == (1, 2) and old.sha256 != new.sha256
    await ArtifactSweep(setup.storage, setup.store).run()
    (left,) = setup.files()
    assert hashlib.sha256(left.read_bytes()).hexdigest() == new.sha256


async def test_a_writer_that_lost_the_job_stores_nothing(setup: Setup) -> None:
    await submit(setup.storage, "big")
    (job,) = await setup.storage.jobs_claim("w1", ["big"], 1, 30.0)
    await setup.storage.jobs_finish([Outcome(lease_of(job), JobState.COMPLETED, result=1)])

    with pytest.raises(JobCancelled):
        await setup.writer.write(job, "late.txt", b"too late", "text/plain")

    assert await setup.storage.artifacts_list(job.id) == []
    assert setup.files() == []


async def test_a_write_whose_lease_goes_meanwhile_is_abandoned(setup: Setup) -> None:
    """Reserved with the lease, but the job ended before the commit: the file is queued for
    removal, never listed."""
    await submit(setup.storage, "big")
    (job,) = await setup.storage.jobs_claim("w1", ["big"], 1, 30.0)

    async def chunks() -> AsyncIterator[bytes]:
        yield b"first"
        await setup.storage.jobs_finish([Outcome(lease_of(job), JobState.COMPLETED, result=1)])
        yield b"second"

    with pytest.raises(JobCancelled):
        await setup.writer.write(job, "a.bin", chunks(), "application/octet-stream")

    assert await setup.storage.artifacts_list(job.id) == []
    assert len(setup.files()) == 1
    await ArtifactSweep(setup.storage, setup.store).run()
    assert setup.files() == []


async def test_a_bad_name_fails_the_attempt_and_writes_nothing(setup: Setup) -> None:
    job = await setup.run("bad_name", name="../escape")

    assert job.state is JobState.FAILED
    assert job.error is not None and job.error.code == "HANDLER_ERROR"
    assert setup.files() == []


async def test_a_handler_cannot_forge_a_reference(setup: Setup) -> None:
    job = await setup.run("forge")

    assert job.state is JobState.FAILED
    assert job.error is not None and job.error.code == "INVALID_OUTPUT"


async def test_a_result_over_the_largest_file_fails_for_good(setup: Setup) -> None:
    setup.writer = ArtifactWriter(setup.storage, setup.store, ArtifactLimits(LIMIT, 4000))

    job = await setup.run("big", size=5000)

    assert job.state is JobState.FAILED
    assert job.error is not None and job.error.code == "RESULT_TOO_LARGE"
    await ArtifactSweep(setup.storage, setup.store).run()
    assert setup.files() == []


async def test_without_a_store_results_stay_inline(setup: Setup) -> None:
    job = await submit(setup.storage, "big", {"size": 5000})
    await Worker(setup.storage, artifact_apps.app, FAST).run_until_empty()

    done = await get(setup.storage, job.id)
    assert done.state is JobState.COMPLETED and reference_of(done.result) is None


async def test_the_analytics_example_exports_its_table(setup: Setup) -> None:
    from joblane.examples import app as examples

    rows = [{"k": "a", "v": 1}, {"k": "a", "v": 2}, {"k": "b", "v": 5}, {"k": None, "v": 1}]
    query = {"rows": rows, "group_by": ["k"], "aggregate": {"v": "sum"}, "export_csv": True}
    job = await submit(setup.storage, "analytics_query", query)
    await Worker(setup.storage, examples, FAST, artifacts=setup.writer).run_until_empty()

    done = await get(setup.storage, job.id)
    assert done.state is JobState.COMPLETED, done.error
    (exported,) = await setup.storage.artifacts_list(job.id)
    assert (exported.name, exported.content_type) == ("result.csv", "text/csv")
    assert setup.read(exported) == b"k,sum_v\r\n,1\r\na,3\r\nb,5\r\n"


async def test_the_leaders_sweep_looks_at_an_empty_queue_only_every_few_ticks(
    setup: Setup,
) -> None:
    sweep = ArtifactSweep(setup.storage, setup.store, every=3)
    looks = 0
    original = setup.storage.artifact_garbage

    async def counted(limit: int) -> list[tuple[int, str]]:
        nonlocal looks
        looks += 1
        return await original(limit)

    setup.storage.artifact_garbage = counted  # type: ignore[method-assign]
    for _ in range(6):
        await sweep.tick()
    assert looks == 2  # ticks 0 and 3

    await sweep.tick(nudged=True)  # retention purged something: look now
    assert looks == 3
