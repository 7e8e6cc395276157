"""Acceptance fixtures: a fresh database and process set per test; everything killed after."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

import pg
from acceptance.procs import Processes
from conftest import BACKENDS


@pytest.fixture(params=BACKENDS)
def procs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Processes]:
    """Real processes over a fresh database of each backend (PostgreSQL starts empty and is
    migrated by `joblane migrate`, like a deployment)."""
    with contextlib.ExitStack() as stack:
        if request.param == "postgres":
            database = stack.enter_context(pg.fresh_database_sync(migrated=False))
        else:
            database = str(tmp_path / "joblane.db")
        processes = Processes(
            workdir=tmp_path,
            database=database,
            env_overrides={
                "JOBLANE_LEASE_SECONDS": "1.5",
                "JOBLANE_MAINTENANCE_INTERVAL": "0.2",
                "JOBLANE_SHUTDOWN_GRACE": "5",
            },
        )
        stack.callback(processes.stop_all)
        processes.run("migrate")
        yield processes


@pytest.fixture
def api_key(procs: Processes) -> str:
    return procs.run("keys", "create", "--tenant", "acceptance")
