"""Storage: one interface of domain operations; `sqlite/` (and later `postgres/`) implement it."""

from __future__ import annotations

from joblane.storage.base import Storage

__all__ = ["Storage"]
