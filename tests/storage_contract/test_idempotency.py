"""Storage contract: idempotent inserts keyed by (tenant, key) and checked by request hash."""

from __future__ import annotations

import asyncio

from factories import new_job
from joblane.core.states import JobState
from joblane.storage.base import Storage
from joblane.storage.params import JobFilter

TTL = 3600.0


async def test_first_insert_creates_the_job(storage: Storage) -> None:
    spec = new_job(idempotency_key="k1")
    result = await storage.job_insert_idempotent(spec, "k1", "hash-1", TTL)

    assert result.created
    assert not result.mismatch
    assert result.job is not None
    assert result.job.id == spec.id
    assert result.job.state is JobState.QUEUED
    assert await storage.job_get(spec.id, "tenant-a") == result.job


async def test_same_key_and_hash_returns_the_same_job(storage: Storage) -> None:
    first = await storage.job_insert_idempotent(new_job(), "k1", "hash-1", TTL)
    duplicate = new_job()
    second = await storage.job_insert_idempotent(duplicate, "k1", "hash-1", TTL)

    assert first.job is not None
    assert not second.created
    assert not second.mismatch
    assert second.job == first.job
    assert await storage.job_get(duplicate.id, None) is None  # no second job
    assert len(await storage.jobs_list(JobFilter(tenant_id=None))) == 1


async def test_the_same_job_is_returned_as_it_is_now(storage: Storage) -> None:
    first = await storage.job_insert_idempotent(new_job(), "k1", "hash-1", TTL)
    assert first.job is not None
    await storage.job_cancel(first.job.id, None, "changed")

    second = await storage.job_insert_idempotent(new_job(), "k1", "hash-1", TTL)

    assert second.job is not None
    assert second.job.id == first.job.id
    assert second.job.state is JobState.CANCELLED


async def test_same_key_different_hash_is_a_mismatch(storage: Storage) -> None:
    first = await storage.job_insert_idempotent(new_job(), "k1", "hash-1", TTL)
    other = new_job()
    second = await storage.job_insert_idempotent(other, "k1", "hash-2", TTL)

    assert second.mismatch
    assert not second.created
    assert await storage.job_get(other.id, None) is None
    assert first.job is not None
    assert await storage.job_get(first.job.id, None) == first.job


async def test_keys_are_per_tenant(storage: Storage) -> None:
    a = await storage.job_insert_idempotent(new_job("tenant-a"), "shared", "hash-a", TTL)
    b = await storage.job_insert_idempotent(new_job("tenant-b"), "shared", "hash-b", TTL)

    assert a.created
    assert b.created
    assert not b.mismatch
    assert a.job is not None
    assert b.job is not None
    assert a.job.id != b.job.id
    assert b.job.tenant_id == "tenant-b"


async def test_different_keys_are_independent(storage: Storage) -> None:
    a = await storage.job_insert_idempotent(new_job(), "k1", "same-hash", TTL)
    b = await storage.job_insert_idempotent(new_job(), "k2", "same-hash", TTL)
    assert a.created
    assert b.created
    assert a.job is not None
    assert b.job is not None
    assert a.job.id != b.job.id


async def test_an_expired_key_no_longer_matches(storage: Storage) -> None:
    first = await storage.job_insert_idempotent(new_job(), "k1", "hash-1", 0.05)
    await asyncio.sleep(0.1)

    again = await storage.job_insert_idempotent(new_job(), "k1", "hash-2", TTL)

    assert again.created
    assert not again.mismatch
    assert first.job is not None
    assert again.job is not None
    assert again.job.id != first.job.id


async def test_purge_removes_only_expired_keys(storage: Storage) -> None:
    short = await storage.job_insert_idempotent(new_job(), "short", "h", 0.05)
    long = await storage.job_insert_idempotent(new_job(), "long", "h", TTL)
    await asyncio.sleep(0.1)

    assert await storage.idempotency_purge(100) == 1
    assert await storage.idempotency_purge(100) == 0

    # the kept key still deduplicates; the purged one is free again
    kept = await storage.job_insert_idempotent(new_job(), "long", "h", TTL)
    assert not kept.created
    assert long.job is not None
    assert kept.job is not None
    assert kept.job.id == long.job.id
    freed = await storage.job_insert_idempotent(new_job(), "short", "other", TTL)
    assert freed.created
    # purging a key never deletes its job
    assert short.job is not None
    assert await storage.job_get(short.job.id, None) is not None


async def test_purge_respects_the_limit(storage: Storage) -> None:
    for n in range(5):
        await storage.job_insert_idempotent(new_job(), f"k{n}", "h", 0.01)
    await asyncio.sleep(0.05)
    assert await storage.idempotency_purge(2) == 2
    assert await storage.idempotency_purge(10) == 3
