"""Shared fixtures. `storage` runs against every backend that is available here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from joblane.core.principal import ADMIN, READ, WRITE, Principal
from joblane.storage.base import Storage
from joblane.storage.sqlite.backend import SqliteStorage
from joblane.storage.sqlite.connection import SqliteOptions

BACKENDS = ["sqlite"]


async def open_backend(name: str, tmp_path: Path) -> Storage:
    if name == "sqlite":
        storage: Storage = SqliteStorage(SqliteOptions(str(tmp_path / "joblane.db")))
    else:  # pragma: no cover - later backends register here
        raise ValueError(name)
    await storage.open()
    await storage.migrate()
    return storage


@pytest.fixture(params=BACKENDS)
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    backend = await open_backend(request.param, tmp_path)
    try:
        yield backend
    finally:
        await backend.close()


@pytest.fixture
def tenant_a() -> Principal:
    return Principal("tenant-a", frozenset({READ, WRITE}), "key_a")


@pytest.fixture
def tenant_b() -> Principal:
    return Principal("tenant-b", frozenset({READ, WRITE}), "key_b")


@pytest.fixture
def admin() -> Principal:
    return Principal("ops", frozenset({ADMIN}), "key_admin")
