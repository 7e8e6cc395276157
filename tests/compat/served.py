"""A real `joblane serve --profile NAME` (SQLite, the bundled example job types) for the
profiles' end-to-end tests, killed when the test ends; polling; retention in-process."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from acceptance.procs import Processes
from compat.conftest import Compat
from joblane.core.retention import Cutoffs


@contextlib.contextmanager
def serve_profile(
    tmp_path: Path, profile: str, env: dict[str, str] | None = None
) -> Iterator[tuple[str, str]]:
    """(base URL, an API key of tenant `<profile>-client`)."""
    procs = Processes(workdir=tmp_path, database=str(tmp_path / "joblane.db"))
    procs.env_overrides.update(env or {})
    try:
        procs.run("migrate")
        key = procs.run("keys", "create", "--tenant", f"{profile}-client")
        _, url = procs.start_http("serve", "--profile", profile, log_name="serve")
        yield url, key
    finally:
        procs.stop_all()


def poll(
    read: Callable[[], Any],
    done: Callable[[Any], bool],
    timeout: float = 30,
    interval: float = 0.05,
) -> Any:
    """A document's polling loop, sped up: `read()` until `done(value)` or the timeout."""
    deadline = time.monotonic() + timeout
    value = read()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(interval)
        value = read()
    return value


async def purge_finished(compat: Compat, tenant: str = "tenant-a") -> None:
    """Retention runs for `tenant`: its finished jobs are purged (their ids leave tombstones)."""
    storage = compat.api.storage
    await storage.jobs_expire(Cutoffs(0.0, {tenant: storage.now() + 1.0}), 100)
