"""A real `joblane serve apps:app` process (SQLite or PostgreSQL) shared by a test module,
with an API key; every process is killed and every database dropped afterwards."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pg
from acceptance.procs import Processes


@dataclass(frozen=True)
class Live:
    url: str
    api_key: str
    backend: str
    procs: Processes

    def key(self, tenant: str, scopes: str = "jobs:read,jobs:write") -> str:
        return self.procs.run("keys", "create", "--tenant", tenant, "--scopes", scopes)

    def tag(self) -> dict[str, str]:
        """Metadata unique to one test, to find its jobs among the module's."""
        return {"test": uuid.uuid4().hex[:12]}


@contextlib.contextmanager
def live_server(backend: str, workdir: Path) -> Iterator[Live]:
    with contextlib.ExitStack() as stack:
        if backend == "postgres":
            database = stack.enter_context(pg.fresh_database_sync(migrated=False))
        else:
            database = str(workdir / "joblane.db")
        procs = Processes(workdir, database, {"JOBLANE_SHUTDOWN_GRACE": "2"})
        stack.callback(procs.stop_all)
        procs.run("migrate")
        server, url = procs.start_http("serve", "apps:app", log_name="serve")
        key = procs.run("keys", "create", "--tenant", "client-tests")
        yield Live(url, key, backend, procs)
        assert server.poll() is None, procs.log("serve")
