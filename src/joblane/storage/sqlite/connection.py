"""Opening SQLite connections the way Joblane needs them: WAL, FULL sync, busy timeout."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Literal

Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]


@dataclass(frozen=True, slots=True)
class SqliteOptions:
    path: str
    synchronous: Synchronous = "FULL"
    busy_timeout_ms: int = 10_000
    max_pending_writes: int = 2000  # writes queued or in flight; more fail fast (Unavailable)


def connect(options: SqliteOptions, *, readonly: bool = False) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves.
    conn = sqlite3.connect(
        options.path, isolation_level=None, check_same_thread=False, cached_statements=256
    )
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(options.busy_timeout_ms)}")
    if not readonly:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {options.synchronous}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA temp_store = MEMORY")
    if readonly:
        conn.execute("PRAGMA query_only = ON")
    return conn
