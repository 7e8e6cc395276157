"""API keys are stored only as an HMAC under the server's secret; older SHA-256 keys still work;
rotation hands out a new secret and retires the old one after its grace."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from joblane.core.errors import InvalidApiKey, KeyNotFound
from joblane.core.principal import READ, WRITE
from joblane.service import keys as keys_module
from joblane.service.keys import KeyService, generate_secret
from joblane.storage.base import Storage
from joblane.storage.params import ApiKeyRecord

SECRET = "s" * 40


async def test_the_stored_hash_is_an_hmac_under_the_configured_secret(storage: Storage) -> None:
    created = await KeyService(storage, SECRET).create("acme", (READ,))

    (stored,) = await storage.keys_list("acme")
    expected = hmac.new(SECRET.encode(), created.secret.encode(), hashlib.sha256).hexdigest()
    assert stored.key_hash == expected
    assert stored.key_hash != hashlib.sha256(created.secret.encode()).hexdigest()
    assert stored.hash_version == 2
    assert created.secret not in repr(stored)


async def test_a_key_made_under_one_secret_does_not_work_under_another(storage: Storage) -> None:
    created = await KeyService(storage, SECRET).create("acme", (READ,))

    assert (await KeyService(storage, SECRET).authenticate(created.secret)).tenant_id == "acme"
    with pytest.raises(InvalidApiKey, match="not known"):
        await KeyService(storage, "t" * 40).authenticate(created.secret)


async def test_without_a_configured_secret_one_is_generated_once_and_shared(
    storage: Storage,
) -> None:
    created = await KeyService(storage).create("acme", (READ,))

    # another process (another service instance) uses the same stored secret
    assert (await KeyService(storage).authenticate(created.secret)).tenant_id == "acme"
    stored = await storage.server_secret(keys_module.SECRET_NAME, "unused")
    assert stored != "unused" and len(stored) >= 32


async def test_keys_hashed_before_hmac_still_authenticate(storage: Storage) -> None:
    secret = generate_secret()
    await storage.key_insert(
        ApiKeyRecord(
            id="key_01ARZ3NDEKTSV4RRFFQ69G5FAV",
            tenant_id="old",
            name="",
            prefix=secret[:10],
            key_hash=hashlib.sha256(secret.encode()).hexdigest(),
            scopes=(READ, WRITE),
            created_at=storage.now(),
            hash_version=1,
        )
    )

    assert (await KeyService(storage, SECRET).authenticate(secret)).tenant_id == "old"


async def test_principal_carries_the_tenants_settings(storage: Storage) -> None:
    service = KeyService(storage, SECRET)
    created = await service.create("acme", (READ,))
    await service.tenants.update("acme", None, {"max_running": 4, "job_types": ["noop"]})

    who = await service.authenticate(created.secret)

    assert who.settings.max_running == 4
    assert who.settings.job_types == ("noop",)


async def test_rotate_gives_a_working_key_and_retires_the_old_one(storage: Storage) -> None:
    service = KeyService(storage, SECRET)
    old = await service.create("acme", (READ,), name="ci")

    new = await service.rotate(old.record.id, grace=0)

    assert new.secret != old.secret
    assert (new.record.tenant_id, new.record.scopes, new.record.name) == ("acme", (READ,), "ci")
    assert (await service.authenticate(new.secret)).key_id == new.record.id
    with pytest.raises(InvalidApiKey, match="expired"):
        await service.authenticate(old.secret)
    with pytest.raises(KeyNotFound):
        await service.rotate(old.record.id, grace=0)  # already rotated


async def test_rotate_with_grace_keeps_the_old_key_working_meanwhile(storage: Storage) -> None:
    service = KeyService(storage, SECRET)
    old = await service.create("acme", (READ,))

    await service.rotate(old.record.id, grace=3600)

    assert (await service.authenticate(old.secret)).key_id == old.record.id
    retired = await storage.key_get(old.record.id)
    assert retired is not None and retired.expires_at == pytest.approx(storage.now() + 3600, abs=5)
