"""Storage contract: tenants and their settings, key rotation, and the server's secrets."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from joblane.core.tenant import Tenant, TenantSettings
from joblane.storage.base import Storage
from storage_contract.test_keys_workers import key

FULL = TenantSettings(
    retention_days=7,
    read_rate=20.5,
    read_burst=40,
    write_rate=2.0,
    write_burst=5,
    max_running=3,
    max_payload_bytes=4096,
    job_types=("noop", "render"),
)


def tenant(tenant_id: str, settings: TenantSettings | None = None, name: str = "") -> Tenant:
    return Tenant(tenant_id, name, 0.0, 0.0, settings or TenantSettings())


# -- tenants ---------------------------------------------------------------------------------
async def test_unknown_tenant_is_none(storage: Storage) -> None:
    assert await storage.tenant_get("nobody") is None
    assert await storage.tenants_list() == []


async def test_put_then_get_round_trips_every_setting(storage: Storage) -> None:
    stored = await storage.tenant_put(tenant("acme", FULL, "Acme Inc."))

    assert stored.settings == FULL
    assert stored.name == "Acme Inc."
    assert stored.created_at == pytest.approx(storage.now(), abs=2.0)
    assert stored.updated_at == stored.created_at
    assert await storage.tenant_get("acme") == stored


async def test_defaults_are_stored_as_none(storage: Storage) -> None:
    stored = await storage.tenant_put(tenant("plain"))

    assert stored.settings == TenantSettings()
    assert stored.settings.may_use("anything")


async def test_put_again_replaces_settings_and_keeps_creation_time(storage: Storage) -> None:
    first = await storage.tenant_put(tenant("acme", FULL))
    await asyncio.sleep(0.01)
    changed = FULL.changed(max_running=None, job_types=None, read_rate=1.5)

    second = await storage.tenant_put(tenant("acme", changed, "renamed"))

    assert second.settings == changed
    assert second.name == "renamed"
    assert second.created_at == first.created_at
    assert second.updated_at > first.updated_at
    assert await storage.tenant_get("acme") == second


async def test_list_is_ordered_by_id(storage: Storage) -> None:
    for tenant_id in ("zeta", "alpha", "mid"):
        await storage.tenant_put(tenant(tenant_id))

    assert [t.id for t in await storage.tenants_list()] == ["alpha", "mid", "zeta"]


async def test_empty_job_type_list_allows_nothing(storage: Storage) -> None:
    stored = await storage.tenant_put(tenant("locked", TenantSettings(job_types=())))

    assert stored.settings.job_types == ()
    assert not stored.settings.may_use("noop")


# -- keys ------------------------------------------------------------------------------------
async def test_key_get_and_hash_version(storage: Storage) -> None:
    record = replace(key("acme"), hash_version=2)
    await storage.key_insert(record)

    assert await storage.key_get(record.id) == record
    assert await storage.key_get("key_01ARZ3NDEKTSV4RRFFQ69G5FAV") is None


async def test_rotate_links_old_to_new_and_caps_its_expiry(storage: Storage) -> None:
    old = key("acme", expires_at=storage.now() + 10_000)
    await storage.key_insert(old)
    new = key("acme")
    grace_end = storage.now() + 60

    assert await storage.key_rotate(old.id, new, grace_end)

    retired = await storage.key_get(old.id)
    assert retired is not None
    assert retired.replaced_by == new.id
    assert retired.expires_at == pytest.approx(grace_end)
    assert await storage.key_get(new.id) == new


async def test_rotate_never_extends_an_earlier_expiry(storage: Storage) -> None:
    soon = storage.now() + 30
    old = key("acme", expires_at=soon)
    await storage.key_insert(old)

    assert await storage.key_rotate(old.id, key("acme"), storage.now() + 3600)

    retired = await storage.key_get(old.id)
    assert retired is not None and retired.expires_at == pytest.approx(soon)


@pytest.mark.parametrize("why", ["revoked", "rotated", "expired", "unknown"])
async def test_rotate_refuses_a_key_that_no_longer_works(storage: Storage, why: str) -> None:
    old = key("acme", expires_at=storage.now() - 1 if why == "expired" else None)
    if why != "unknown":
        await storage.key_insert(old)
    if why == "revoked":
        assert await storage.key_revoke(old.id)
    if why == "rotated":
        assert await storage.key_rotate(old.id, key("acme"), storage.now() + 60)
    new = key("acme")

    assert not await storage.key_rotate(old.id, new, storage.now() + 60)
    assert await storage.key_get(new.id) is None  # nothing half-done


# -- server secrets --------------------------------------------------------------------------
async def test_the_first_secret_stored_wins(storage: Storage) -> None:
    first = await storage.server_secret("hmac", "one")
    again = await storage.server_secret("hmac", "two")
    other = await storage.server_secret("other", "three")

    assert (first, again, other) == ("one", "one", "three")


async def test_concurrent_first_uses_agree(storage: Storage) -> None:
    values = await asyncio.gather(*(storage.server_secret("race", f"v{i}") for i in range(8)))

    assert len(set(values)) == 1
