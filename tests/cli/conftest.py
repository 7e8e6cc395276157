"""The CLI's API commands run against one real server per backend and module."""

from __future__ import annotations

from client.conftest import live

__all__ = ["live"]
