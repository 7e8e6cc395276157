"""The SQLite writer survives a failing group (a full disk): the writes fail with Unavailable,
nothing hangs, and later writes go through."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from factories import new_job
from joblane.core.errors import Unavailable
from joblane.storage.sqlite.backend import SqliteStorage
from joblane.storage.sqlite.connection import SqliteOptions


async def test_a_full_database_fails_writes_without_killing_the_writer(tmp_path: Path) -> None:
    storage = SqliteStorage(SqliteOptions(str(tmp_path / "full.db")))
    await storage.open()
    await storage.migrate()
    try:
        pages = await storage._writer.run(lambda c: c.execute("PRAGMA page_count").fetchone()[0])
        await storage._writer.run(lambda c: c.execute(f"PRAGMA max_page_count = {pages + 2}"))
        big = {"blob": "x" * 200_000}
        with pytest.raises((Unavailable, sqlite3.Error)):
            await asyncio.wait_for(storage.jobs_insert([new_job(input=big)]), 5)

        await storage._writer.run(lambda c: c.execute("PRAGMA max_page_count = 1073741823"))
        (job,) = await asyncio.wait_for(storage.jobs_insert([new_job()]), 5)
        assert await storage.job_get(job.id, None) == job
    finally:
        await storage.close()
