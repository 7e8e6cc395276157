"""Storage contract: artifact rows. A worker reserves a row with its lease before writing a
file and commits it after; every path that stops being referenced (replaced, abandoned, or its
job deleted by any means) lands in the garbage queue in the same transaction."""

from __future__ import annotations

from factories import new_job
from joblane.core.job import Lease
from joblane.core.retention import Cutoffs
from joblane.core.states import JobState
from joblane.storage.base import Storage
from joblane.storage.params import Outcome
from storage_contract.helpers import claim_one, lease_of, make_batch

SHA = "ab" * 32


async def stored(storage: Storage, lease: Lease, name: str, path: str, size: int = 3) -> None:
    assert await storage.artifact_reserve(lease, name, path, "text/plain")
    assert await storage.artifact_commit(lease, name, path, size, SHA) is not None


async def garbage_paths(storage: Storage) -> list[str]:
    return [path for _, path in await storage.artifact_garbage(1000)]


async def test_a_reserved_row_is_invisible_until_committed(storage: Storage) -> None:
    job = await claim_one(storage)
    lease = lease_of(job)

    assert await storage.artifact_reserve(lease, "a.txt", f"{job.id}/1-x/a.txt", "text/plain")
    assert await storage.artifact_get(job.id, "a.txt") is None
    assert await storage.artifacts_list(job.id) == []

    artifact = await storage.artifact_commit(lease, "a.txt", f"{job.id}/1-x/a.txt", 12, SHA)

    assert artifact is not None
    assert (artifact.job_id, artifact.name, artifact.attempt) == (job.id, "a.txt", 1)
    assert (artifact.size, artifact.sha256, artifact.content_type) == (12, SHA, "text/plain")
    assert artifact.path == f"{job.id}/1-x/a.txt"
    assert await storage.artifact_get(job.id, "a.txt") == artifact
    assert await storage.artifacts_list(job.id) == [artifact]


async def test_the_list_is_by_name_and_per_job(storage: Storage) -> None:
    job, other = await claim_one(storage), await claim_one(storage)
    for name in ("b.csv", "a.txt"):
        await stored(storage, lease_of(job), name, f"{job.id}/1-x/{name}")
    await stored(storage, lease_of(other), "a.txt", f"{other.id}/1-x/a.txt")

    assert [a.name for a in await storage.artifacts_list(job.id)] == ["a.txt", "b.csv"]
    assert [a.job_id for a in await storage.artifacts_list(other.id)] == [other.id]


async def test_writes_without_the_lease_do_nothing(storage: Storage) -> None:
    job = await claim_one(storage)
    stale = Lease(job.id, "not-the-token")

    assert not await storage.artifact_reserve(stale, "a.txt", "p/1-x/a.txt", "text/plain")
    assert not await storage.artifact_reserve(Lease("job_nope", "x"), "a", "q/1/a", "text/plain")
    assert await storage.artifact_reserve(lease_of(job), "a.txt", "p/1-x/a.txt", "text/plain")
    assert await storage.artifact_commit(stale, "a.txt", "p/1-x/a.txt", 3, SHA) is None
    assert await storage.artifact_get(job.id, "a.txt") is None


async def test_a_finished_job_takes_no_more_writes(storage: Storage) -> None:
    job = await claim_one(storage)
    lease = lease_of(job)
    assert await storage.artifact_reserve(lease, "a.txt", "p/1-x/a.txt", "text/plain")
    await storage.jobs_finish([Outcome(lease, JobState.COMPLETED, result=1)])

    assert await storage.artifact_commit(lease, "a.txt", "p/1-x/a.txt", 3, SHA) is None
    assert not await storage.artifact_reserve(lease, "b.txt", "p/1-y/b.txt", "text/plain")


async def test_a_commit_names_the_write_it_reserved(storage: Storage) -> None:
    """A write that was replaced meanwhile cannot commit over its replacement."""
    job = await claim_one(storage)
    lease = lease_of(job)
    assert await storage.artifact_reserve(lease, "a.txt", "p/1-old/a.txt", "text/plain")
    assert await storage.artifact_reserve(lease, "a.txt", "p/1-new/a.txt", "text/plain")

    assert await storage.artifact_commit(lease, "a.txt", "p/1-old/a.txt", 3, SHA) is None
    assert await storage.artifact_commit(lease, "a.txt", "p/1-new/a.txt", 3, SHA) is not None


async def test_a_later_write_replaces_and_queues_the_earlier_file(storage: Storage) -> None:
    job = await claim_one(storage, max_attempts=3)
    await stored(storage, lease_of(job), "a.txt", f"{job.id}/1-x/a.txt")
    retry = Outcome(lease_of(job), JobState.QUEUED, retry_delay=0.0)
    await storage.jobs_finish([retry])
    (again,) = await storage.jobs_claim("w1", ["noop"], 1, 30.0)
    assert again.attempt == 2

    await stored(storage, lease_of(again), "a.txt", f"{job.id}/2-y/a.txt", size=5)

    artifact = await storage.artifact_get(job.id, "a.txt")
    assert artifact is not None
    assert (artifact.attempt, artifact.path, artifact.size) == (2, f"{job.id}/2-y/a.txt", 5)
    assert await garbage_paths(storage) == [f"{job.id}/1-x/a.txt"]


async def test_an_abandoned_write_is_dropped_and_queued(storage: Storage) -> None:
    job = await claim_one(storage)
    lease = lease_of(job)
    assert await storage.artifact_reserve(lease, "a.txt", "p/1-x/a.txt", "text/plain")

    await storage.artifact_abandon(job.id, "a.txt", "p/1-x/a.txt")
    await storage.artifact_abandon(
        job.id, "gone.txt", "p/1-z/gone.txt"
    )  # no row: queued all the same

    assert await storage.artifact_commit(lease, "a.txt", "p/1-x/a.txt", 3, SHA) is None
    assert await garbage_paths(storage) == ["p/1-x/a.txt", "p/1-z/gone.txt"]


async def test_abandoning_an_old_path_keeps_the_current_write(storage: Storage) -> None:
    job = await claim_one(storage)
    await stored(storage, lease_of(job), "a.txt", "p/1-new/a.txt")

    await storage.artifact_abandon(job.id, "a.txt", "p/1-old/a.txt")

    assert await storage.artifact_get(job.id, "a.txt") is not None


async def test_deleting_a_job_queues_all_its_files_in_the_same_write(storage: Storage) -> None:
    job = await claim_one(storage)
    for name in ("a.txt", "b.txt"):
        await stored(storage, lease_of(job), name, f"{job.id}/1-x/{name}")
    assert await storage.artifact_reserve(lease_of(job), "c.txt", f"{job.id}/1-y/c.txt", "x/y")
    await storage.jobs_finish([Outcome(lease_of(job), JobState.COMPLETED, result=1)])

    change = await storage.job_delete(job.id, "tenant-a")

    assert change.changed
    assert await storage.artifacts_list(job.id) == []
    assert sorted(await garbage_paths(storage)) == [
        f"{job.id}/1-x/a.txt",
        f"{job.id}/1-x/b.txt",
        f"{job.id}/1-y/c.txt",  # reserved and never committed: its file may exist all the same
    ]


async def test_retention_queues_the_files_of_what_it_purges(storage: Storage) -> None:
    job = await claim_one(storage)
    keep = await claim_one(storage)
    await stored(storage, lease_of(job), "a.txt", f"{job.id}/1-x/a.txt")
    await stored(storage, lease_of(keep), "a.txt", f"{keep.id}/1-x/a.txt")
    await storage.jobs_finish([Outcome(lease_of(job), JobState.COMPLETED, result=1)])

    assert await storage.jobs_expire(Cutoffs(storage.now() + 10, {}), 100) == 1

    assert await garbage_paths(storage) == [f"{job.id}/1-x/a.txt"]
    assert await storage.artifact_get(keep.id, "a.txt") is not None  # still running


async def test_a_purged_batch_queues_its_items_files(storage: Storage) -> None:
    batch, item_ids = await make_batch(storage, 2)
    claimed = await storage.jobs_claim("w1", ["noop"], 10, 30.0)
    assert {job.id for job in claimed} == set(item_ids)
    for job in claimed:
        await stored(storage, lease_of(job), "a.txt", f"{job.id}/1-x/a.txt")
    await storage.jobs_finish([Outcome(lease_of(j), JobState.COMPLETED, result=1) for j in claimed])
    await storage.batches_settle(10)

    assert await storage.batches_expire(Cutoffs(storage.now() + 10, {}), 10) == [batch.id]
    assert await storage.batch_items_purge(100) == 2

    assert sorted(await garbage_paths(storage)) == sorted(f"{i}/1-x/a.txt" for i in item_ids)


async def test_the_garbage_queue_is_taken_in_order_and_emptied(storage: Storage) -> None:
    job = await claim_one(storage)
    for index in range(5):
        await storage.artifact_abandon(job.id, "a.txt", f"p/1-{index}/a.txt")

    first = await storage.artifact_garbage(3)
    assert [path for _, path in first] == [f"p/1-{i}/a.txt" for i in range(3)]
    assert await storage.artifact_garbage_done([queued for queued, _ in first]) == 3
    assert await garbage_paths(storage) == ["p/1-3/a.txt", "p/1-4/a.txt"]
    assert await storage.artifact_garbage_done([]) == 0


async def test_jobs_without_files_delete_as_before(storage: Storage) -> None:
    (job,) = await storage.jobs_insert([new_job()])
    assert (await storage.job_cancel(job.id, None, None)).changed
    assert (await storage.job_delete(job.id, None)).changed
    assert await storage.artifact_garbage(10) == []
