"""What every SQLite storage mixin (`tenants.py`, `usage.py`, …) uses of `SqliteStorage`: its
group-commit write, its read connection and its clock (declared once, defined by the backend)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class SqliteMixin:
    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    def now(self) -> float:
        raise NotImplementedError
