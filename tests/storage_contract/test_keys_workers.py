"""Storage contract: worker registrations and API key records."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from joblane.core import ids
from joblane.storage.base import Storage
from joblane.storage.params import ApiKeyRecord, WorkerRecord


def worker(
    worker_id: str, running: tuple[str, ...] = (), started_at: float = 1000.0
) -> WorkerRecord:
    return WorkerRecord(
        id=worker_id,
        hostname="host-1",
        pid=4242,
        types=("noop", "render"),
        concurrency=8,
        started_at=started_at,
        heartbeat_at=0.0,  # storage stamps its own time
        running=running,
    )


def key(tenant_id: str, name: str = "", expires_at: float | None = None) -> ApiKeyRecord:
    key_id = ids.new_id(ids.KEY)
    return ApiKeyRecord(
        id=key_id,
        tenant_id=tenant_id,
        name=name,
        prefix="jl_" + key_id[-6:],
        key_hash=hashlib.sha256(key_id.encode()).hexdigest(),
        scopes=("jobs:read", "jobs:write"),
        created_at=1_767_225_600.0,
        expires_at=expires_at,
    )


# -- workers ---------------------------------------------------------------------------------
async def test_upsert_then_alive(storage: Storage) -> None:
    await storage.worker_upsert(worker("w1", running=("job_a",)))

    (alive,) = await storage.workers_alive(60.0)

    assert alive.id == "w1"
    assert alive.hostname == "host-1"
    assert alive.pid == 4242
    assert alive.types == ("noop", "render")
    assert alive.concurrency == 8
    assert alive.started_at == 1000.0
    assert alive.running == ("job_a",)
    assert alive.heartbeat_at == pytest.approx(storage.now(), abs=1.0)


async def test_upsert_again_refreshes_heartbeat_and_running(storage: Storage) -> None:
    await storage.worker_upsert(worker("w1", running=("job_a",)))
    (first,) = await storage.workers_alive(60.0)
    await asyncio.sleep(0.01)

    await storage.worker_upsert(worker("w1", running=("job_b", "job_c")))

    (second,) = await storage.workers_alive(60.0)
    assert second.running == ("job_b", "job_c")
    assert second.heartbeat_at > first.heartbeat_at


async def test_alive_leaves_out_workers_not_seen_recently(storage: Storage) -> None:
    await storage.worker_upsert(worker("quiet", started_at=1.0))
    await asyncio.sleep(0.1)
    await storage.worker_upsert(worker("busy", started_at=2.0))

    assert [w.id for w in await storage.workers_alive(0.05)] == ["busy"]
    assert [w.id for w in await storage.workers_alive(60.0)] == ["quiet", "busy"]


async def test_remove(storage: Storage) -> None:
    await storage.worker_upsert(worker("w1", started_at=1.0))
    await storage.worker_upsert(worker("w2", started_at=2.0))

    await storage.worker_remove("w1")
    await storage.worker_remove("never-registered")

    assert [w.id for w in await storage.workers_alive(60.0)] == ["w2"]


# -- API keys --------------------------------------------------------------------------------
async def test_insert_and_find_by_hash(storage: Storage) -> None:
    record = key("tenant-a", "ci", expires_at=1_800_000_000.0)
    await storage.key_insert(record)

    assert await storage.key_by_hash(record.key_hash) == record
    assert await storage.key_by_hash("0" * 64) is None


async def test_list_by_tenant(storage: Storage) -> None:
    a1, a2, b1 = key("tenant-a", "one"), key("tenant-a", "two"), key("tenant-b")
    for record in (a1, a2, b1):
        await storage.key_insert(record)

    assert {k.id for k in await storage.keys_list("tenant-a")} == {a1.id, a2.id}
    assert await storage.keys_list("tenant-b") == [b1]
    assert await storage.keys_list("tenant-c") == []
    assert {k.id for k in await storage.keys_list(None)} == {a1.id, a2.id, b1.id}


async def test_revoke(storage: Storage) -> None:
    record = key("tenant-a")
    other = key("tenant-a")
    await storage.key_insert(record)
    await storage.key_insert(other)

    assert await storage.key_revoke(record.id)
    revoked = await storage.key_by_hash(record.key_hash)
    assert revoked is not None
    assert revoked.revoked_at == pytest.approx(storage.now(), abs=1.0)
    assert not await storage.key_revoke(record.id)  # twice
    assert not await storage.key_revoke("key_unknown")

    untouched = await storage.key_by_hash(other.key_hash)
    assert untouched == other
    assert untouched is not None
    assert untouched.revoked_at is None


async def test_revoking_twice_keeps_the_first_time(storage: Storage) -> None:
    record = key("tenant-a")
    await storage.key_insert(record)
    await storage.key_revoke(record.id)
    first = await storage.key_by_hash(record.key_hash)
    await asyncio.sleep(0.01)
    await storage.key_revoke(record.id)
    assert await storage.key_by_hash(record.key_hash) == first


async def test_key_hash_is_unique(storage: Storage) -> None:
    record = key("tenant-a")
    await storage.key_insert(record)
    clash = ApiKeyRecord(
        id=ids.new_id(ids.KEY),
        tenant_id="tenant-b",
        name="",
        prefix="jl_x",
        key_hash=record.key_hash,
        scopes=("admin",),
        created_at=1.0,
    )
    with pytest.raises(Exception):  # noqa: B017 - each backend raises its own integrity error
        await storage.key_insert(clash)
    assert await storage.key_by_hash(record.key_hash) == record
