"""`KeyService.authenticate_id` (a dashboard session holds a key's id, not its secret): the same
answers as authenticating with the secret, revoked and expired keys refused; and the derived
secret that signs sessions."""

from __future__ import annotations

import pytest

from joblane.core.errors import InvalidApiKey, InvalidKeyId
from joblane.core.principal import READ, WRITE
from joblane.service.keys import KeyService
from joblane.storage.base import Storage


async def test_the_same_principal_as_with_the_secret(storage: Storage) -> None:
    keys = KeyService(storage, "s" * 32)
    created = await keys.create("tenant-a", (READ, WRITE))
    assert await keys.authenticate_id(created.record.id) == await keys.authenticate(created.secret)


async def test_revoked_expired_and_unknown_ids_are_refused(storage: Storage) -> None:
    keys = KeyService(storage, "s" * 32)
    revoked = await keys.create("tenant-a", (READ,))
    await keys.authenticate_id(revoked.record.id)  # cached now: a revoke must still count
    await keys.revoke(revoked.record.id)
    expired = await keys.create("tenant-a", (READ,), expires_at=storage.now() - 1)
    for key_id in (revoked.record.id, expired.record.id, "key_" + "0" * 26):
        with pytest.raises(InvalidApiKey):
            await keys.authenticate_id(key_id)
    with pytest.raises(InvalidKeyId):
        await keys.authenticate_id("nonsense")


async def test_derived_secrets_depend_on_purpose_and_server_secret(storage: Storage) -> None:
    one, two = KeyService(storage, "a" * 32), KeyService(storage, "b" * 32)
    assert await one.derived_secret("x") == await one.derived_secret("x")
    assert await one.derived_secret("x") != await one.derived_secret("y")
    assert await one.derived_secret("x") != await two.derived_secret("x")
    assert len(await one.derived_secret("x")) == 32
