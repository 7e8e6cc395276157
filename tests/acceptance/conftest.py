"""Acceptance fixtures: a fresh database and process set per test; everything killed after."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from acceptance.procs import Processes


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Processes]:
    processes = Processes(
        workdir=tmp_path,
        database=str(tmp_path / "joblane.db"),
        env_overrides={
            "JOBLANE_LEASE_SECONDS": "1.5",
            "JOBLANE_MAINTENANCE_INTERVAL": "0.2",
            "JOBLANE_SHUTDOWN_GRACE": "5",
        },
    )
    processes.run("migrate")
    try:
        yield processes
    finally:
        processes.stop_all()


@pytest.fixture
def api_key(procs: Processes) -> str:
    return procs.run("keys", "create", "--tenant", "acceptance")
