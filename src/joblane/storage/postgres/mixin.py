"""What every PostgreSQL storage mixin (`tenants.py`, `batches.py`, …) uses of
`PostgresStorage`: a pooled connection and a transaction (declared once, defined by the
backend)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from joblane.storage.postgres.connection import Conn


class PostgresMixin:
    def _conn(self) -> AbstractAsyncContextManager[Conn]:
        raise NotImplementedError

    def _tx(self) -> AbstractAsyncContextManager[Conn]:
        raise NotImplementedError
