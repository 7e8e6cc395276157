"""Where the client connects and how it introduces itself (shared by both clients)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

import httpx

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 30.0


def user_agent() -> str:
    try:
        return f"joblane-python/{version('joblane')}"
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "joblane-python/0"


@dataclass(frozen=True, slots=True)
class Connection:
    url: str
    api_key: str | None
    timeout: float

    @classmethod
    def resolve(cls, url: str | None, api_key: str | None, timeout: float | None) -> Connection:
        """Arguments first, then `JOBLANE_URL` / `JOBLANE_API_KEY`, then the defaults."""
        url = url or os.environ.get("JOBLANE_URL") or DEFAULT_URL
        key = api_key if api_key is not None else os.environ.get("JOBLANE_API_KEY")
        return cls(url.rstrip("/"), key or None, DEFAULT_TIMEOUT if timeout is None else timeout)

    def headers(self) -> dict[str, str]:
        headers = {"User-Agent": user_agent(), "Accept": "application/json"}
        if self.api_key:
            headers["X-API-Key"] = self.api_key
        return headers

    def httpx_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.timeout, connect=min(10.0, self.timeout))
